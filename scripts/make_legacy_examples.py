"""Make the legacy examples in examples/legacy/ from Mole's own migration history.

Each example starts as today's Mole with the sample campaign, then becomes what
an older or diverged Mole would have left behind:
1. old_mole_0005.sql: an old Mole at migration 0005 (pure lineage case);
2. divergent_registry.dump: a diverged schema whose custom migration is
   committed (0011_legacy_divergent_registry, written by draft-migration and reviewed);
3. divergent_draft.sql: another diverged schema, no migration yet (draft case);
4. mole_archive_0008.tar.gz: a Mole archive (SQL at 0008 plus mole_media/).
The divergences are listed in DIVERGENCES, which the tests read too, so that
the diff must find exactly these. Run: .venv/bin/python scripts/make_legacy_examples.py
"""

from __future__ import annotations

import io
import struct
import tarfile
import tempfile
import zlib
from pathlib import Path

from tooling.legacy.registry import registry_of
from tooling.process import ProcessRunner
from tooling.server.backends import LocalBackend
from tooling.server.django_commands import migrate

PROJECT = Path(__file__).resolve().parent.parent

EXAMPLES = PROJECT / "examples" / "legacy"
MIGRATIONS = PROJECT / "mole" / "data_collection" / "migrations"
DUMP_OPTIONS = ["--no-owner", "--no-privileges"]
# pg_dump 18 writes a random `\restrict` key into plain SQL unless given one; a fixed key keeps files stable.
PLAIN_OPTIONS = ["--restrict-key=moleexamples"]

# What each diverged example changed, as (difference kind, table, object) the diff must report.
DIVERGENCES = {
    "divergent_registry": {
        "sql": """
            ALTER TABLE data_collection_entity RENAME COLUMN physical_id TO serial_no;
            ALTER TABLE data_collection_event ALTER COLUMN metadata DROP DEFAULT;
            ALTER TABLE data_collection_event ALTER COLUMN metadata TYPE text USING metadata::text;
            DO $$ BEGIN
                EXECUTE format('DROP INDEX %I', (SELECT indexname FROM pg_indexes
                    WHERE tablename = 'data_collection_pose' AND indexdef LIKE '%USING gist (point)'));
            END $$;
            CREATE TABLE data_collection_calibration (
                id serial PRIMARY KEY,
                entity_id varchar(100) NOT NULL REFERENCES data_collection_entity (name),
                offset_m double precision NOT NULL,
                note text NOT NULL DEFAULT ''
            );
            INSERT INTO data_collection_calibration (entity_id, offset_m, note)
            SELECT name, 0.05 * row_number() OVER (ORDER BY name), 'GNSS antenna offset'
            FROM data_collection_entity;
        """,
        "expected": [
            ("column_missing", "data_collection_entity", "physical_id"),
            ("column_extra", "data_collection_entity", "serial_no"),
            ("column_type", "data_collection_event", "metadata"),
            ("index_missing", "data_collection_pose", "USING gist (point)"),
            ("table_extra", "data_collection_calibration", ""),
        ],
    },
    "divergent_draft": {
        "sql": """
            ALTER TABLE data_collection_location ALTER COLUMN id DROP IDENTITY;
            CREATE SEQUENCE data_collection_location_id_seq OWNED BY data_collection_location.id;
            SELECT setval('data_collection_location_id_seq', (SELECT max(id) FROM data_collection_location));
            ALTER TABLE data_collection_location ALTER COLUMN id
                SET DEFAULT nextval('data_collection_location_id_seq');
            ALTER TABLE data_collection_campaign ALTER COLUMN description DROP NOT NULL;
            UPDATE data_collection_campaign SET description = NULL;
            ALTER TABLE data_collection_trial ADD COLUMN weather_text text;
            UPDATE data_collection_trial SET weather_text = 'overcast, 12 C';
            DO $$ BEGIN
                EXECUTE format('ALTER INDEX %I RENAME TO data_collection_region_geom_gist', (
                    SELECT indexname FROM pg_indexes
                    WHERE tablename = 'data_collection_region' AND indexdef LIKE '%USING gist (geom)'));
            END $$;
            ALTER TABLE auth_user ALTER COLUMN first_name TYPE varchar(30);
        """,
        "expected": [
            ("column_default", "data_collection_location", "id"),
            ("column_identity", "data_collection_location", "id"),
            ("column_nullability", "data_collection_campaign", "description"),
            ("column_extra", "data_collection_trial", "weather_text"),
            ("index_name", "data_collection_region", "USING gist (geom)"),
            ("column_type", "auth_user", "first_name"),
        ],
    },
}


def tiny_png(red: int, green: int, blue: int) -> bytes:
    """A valid 8x8 one-colour PNG, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((red, green, blue)) * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def last_regular_migration(backend) -> str:
    registry = registry_of(backend, MIGRATIONS)
    custom = {migration.name for migration in registry.custom}
    return max(name for name in registry.migrations if name not in custom)


class ExampleMaker:
    def __init__(self, data_dir: Path) -> None:
        self.backend = LocalBackend(ProcessRunner(), "mole", PROJECT / "mole", data_dir)

    def sample_database(self, name: str) -> str:
        """Today's Mole with the sample campaign (migrations stop before any custom one)."""
        self.backend.admin.create_database(name)
        migrate(self.backend, name)
        # An older Mole never ran the custom migrations written since: take their records back.
        last = last_regular_migration(self.backend)
        migrate(self.backend, name, f"data_collection.{last}")
        self.backend.manage(["load_sample_data"], database=name, capture=True)
        return name

    def dump(self, database: str, target: Path, *options: str) -> None:
        plain = [] if "--format=custom" in options else PLAIN_OPTIONS
        with target.open("wb") as stream:
            self.backend.tools.dump_plain(database, [*DUMP_OPTIONS, *plain, *options], stdout=stream)
        print(f"wrote {target.name} ({target.stat().st_size} bytes)")

    def old_mole(self, name: str, migration: str) -> str:
        database = self.sample_database(name)
        self.backend.manage(
            ["migrate", "data_collection", migration, "--no-input", "-v", "0"],
            database=database,
            capture=True,
        )
        return database

    def diverged(self, name: str) -> str:
        database = self.sample_database(name)
        self.backend.tools.query(DIVERGENCES[name]["sql"], database=database)
        return database

    def make_all(self) -> None:
        EXAMPLES.mkdir(parents=True, exist_ok=True)
        self.dump(self.old_mole("old_mole_0005", "0005"), EXAMPLES / "old_mole_0005.sql")
        self.dump(
            self.diverged("divergent_registry"), EXAMPLES / "divergent_registry.dump", "--format=custom"
        )
        self.dump(self.diverged("divergent_draft"), EXAMPLES / "divergent_draft.sql", "--create")
        self.archive(self.old_mole("mole_archive_0008", "0008"), EXAMPLES / "mole_archive_0008.tar.gz")

    def archive(self, database: str, target: Path) -> None:
        with tempfile.TemporaryDirectory() as work:
            sql = Path(work) / "experiment.sql"
            self.dump(database, sql)
            with tarfile.open(target, "w:gz") as archive:
                archive.add(sql, arcname="experiment.sql")
                for number, colour in enumerate([(200, 30, 30), (30, 160, 60), (40, 60, 200)], start=1):
                    data = tiny_png(*colour)
                    member = tarfile.TarInfo(f"mole_media/images/trial_1_event_{number}.png")
                    member.size = len(data)
                    member.mtime = 1_700_000_000
                    archive.addfile(member, io.BytesIO(data))
        print(f"wrote {target.name} ({target.stat().st_size} bytes)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mole-examples-") as data_dir:
        maker = ExampleMaker(Path(data_dir))
        maker.backend.up()
        try:
            maker.make_all()
        finally:
            maker.backend.down()


if __name__ == "__main__":
    main()
