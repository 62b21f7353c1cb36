"""Unit tests of the pure logic: no server, no Django, no files.

The schema package's comparison, fingerprint, JSON form, quoting and planner; the data check
over inventories; PostgreSQL version strings.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from schema.compare import compare
from schema.compare import compare_names
from schema.differences import Change
from schema.differences import DifferenceKind
from schema.fingerprint import schema_fingerprint
from schema.model import Column
from schema.model import ColumnType
from schema.model import Constraint
from schema.model import ConstraintKind
from schema.model import Identity
from schema.model import Index
from schema.model import Schema
from schema.model import Table
from schema.model import UnknownSnapshotFormat
from schema.model import from_json
from schema.model import to_json
from schema.operations import AddColumn
from schema.operations import AddConstraint
from schema.operations import CreateIndex
from schema.operations import KeepColumnAside
from schema.operations import SerialToIdentity
from schema.operations import WriteByHand
from schema.planner import AlignmentPlanner
from schema.planner import with_renames
from schema.quoting import UnquotableText
from schema.quoting import identifier
from schema.quoting import literal
from schema.renames import RenameCandidate
from schema.rendered_names import as_rendered
from tooling.errors import CommandFailed
from tooling.errors import ManifestInvalid
from tooling.errors import ToolingError
from tooling.legacy.data_check import check_data
from tooling.legacy.pipeline import refuse_inconsistent_history
from tooling.manifests import MANIFEST_VERSION
from tooling.manifests import check_manifest
from tooling.versions import major_release

BIGINT = ColumnType("bigint", "int8")
TEXT = ColumnType("text", "text")
POINT = ColumnType("geometry(Point,4326)", "geometry", ("Point", "4326"))


def key(name: str = "id") -> Column:
    return Column(name, BIGINT, nullable=False, identity=Identity.BY_DEFAULT, position=1)


def entity_table(name: str = "data_collection_entity") -> Table:
    return Table(
        name,
        {"id": key(), "name": Column("name", TEXT, nullable=False, position=2)},
        (
            Constraint(ConstraintKind.PRIMARY_KEY, f"{name}_pkey", "PRIMARY KEY (id)", ("id",)),
            Constraint(ConstraintKind.UNIQUE, f"{name}_name_key", "UNIQUE (name)", ("name",)),
        ),
    )


def pose_table(entity: str = "data_collection_entity", entity_column: str = "entity_id") -> Table:
    reference = as_rendered(entity_column)
    return Table(
        "data_collection_pose",
        {
            "id": key(),
            entity_column: Column(entity_column, BIGINT, nullable=False, position=2),
            "point": Column("point", POINT, nullable=True, position=3),
        },
        (
            Constraint(ConstraintKind.PRIMARY_KEY, "pose_pkey", "PRIMARY KEY (id)", ("id",)),
            Constraint(
                ConstraintKind.FOREIGN_KEY,
                "pose_entity_fk",
                f"FOREIGN KEY ({reference}) REFERENCES {as_rendered(entity)}(id) "
                "DEFERRABLE INITIALLY DEFERRED",
                (entity_column,),
                entity,
                ("id",),
            ),
        ),
        (Index("pose_point_gist", False, "USING gist (point)", ("point",), "gist"),),
    )


def mole(*tables: Table) -> Schema:
    return Schema("public", {table.name: table for table in tables})


def test_a_schema_survives_its_json_form():
    schema = mole(entity_table(), pose_table())
    assert from_json(to_json(schema)) == schema
    with pytest.raises(UnknownSnapshotFormat):
        from_json({**to_json(schema), "format": 1})


def test_type_modifiers_are_structured():
    point = pose_table().columns["point"].type
    assert (point.base, point.modifiers, point.geometry) == ("geometry", ("Point", "4326"), True)


def test_names_alone_do_not_differ_in_structure_but_are_reported_as_names():
    renamed = replace(
        pose_table(),
        constraints=tuple(replace(c, name=c.name + "_old") for c in pose_table().constraints),
        indexes=(replace(pose_table().indexes[0], name="old_gist"),),
    )
    expected, actual = mole(entity_table(), pose_table()), mole(entity_table(), renamed)
    assert compare(expected, actual) == []
    names = {(d.kind, d.expected, d.actual) for d in compare_names(expected, actual)}
    assert names == {
        (DifferenceKind.PRIMARY_KEY_NAME, "pose_pkey", "pose_pkey_old"),
        (DifferenceKind.FOREIGN_KEY_NAME, "pose_entity_fk", "pose_entity_fk_old"),
        (DifferenceKind.INDEX_NAME, "pose_point_gist", "old_gist"),
    }
    assert schema_fingerprint(expected) == schema_fingerprint(actual)


def test_kinds_know_their_subject_and_change_and_equal_their_strings():
    kind = DifferenceKind.of(ConstraintKind.FOREIGN_KEY, Change.MISSING)
    assert kind is DifferenceKind.FOREIGN_KEY_MISSING and kind == "foreign_key_missing"
    assert kind.is_constraint and not DifferenceKind.COLUMN_TYPE.is_constraint
    assert DifferenceKind.COLUMN_NULLABILITY.column_property == "nullable"


def test_a_changed_geometry_srid_and_a_serial_key_are_differences():
    serial = replace(key(), identity=None, default=Column.SERIAL_DEFAULT)
    other_srid = replace(pose_table().columns["point"], type=replace(POINT, text="geometry(Point,3857)"))
    changed = replace(pose_table(), columns={**pose_table().columns, "id": serial, "point": other_srid})
    found = {(d.kind, d.object) for d in compare(mole(pose_table()), mole(changed))}
    assert found == {
        (DifferenceKind.COLUMN_IDENTITY, "id"),
        (DifferenceKind.COLUMN_DEFAULT, "id"),
        (DifferenceKind.COLUMN_TYPE, "point"),
    }


def test_the_fingerprint_ignores_django_tables_and_column_order():
    shuffled = replace(entity_table(), columns=dict(reversed(list(entity_table().columns.items()))))
    django = Table("django_migrations", {"id": key()})
    assert schema_fingerprint(mole(entity_table())) == schema_fingerprint(mole(shuffled, django))
    assert schema_fingerprint(mole(entity_table())) != schema_fingerprint(mole(entity_table(), pose_table()))


@pytest.mark.parametrize(
    "name, rendered",
    [("entity_id", "entity_id"), ("timestamp", '"timestamp"'), ("Mixed", '"Mixed"'),
     ('a"b', '"a""b"'), ("a(b,c)", '"a(b,c)"'), ("name", "name")],
)
def test_names_render_as_postgresql_renders_them(name, rendered):
    assert as_rendered(name) == rendered


def test_quoting_doubles_quotes_and_refuses_nul():
    assert identifier('we"ird') == '"we""ird"'
    assert literal("it's") == "'it''s'"
    with pytest.raises(UnquotableText):
        literal("a\x00b")


def test_a_table_rename_points_foreign_keys_at_the_new_name():
    old = entity_table("data_collection_robot")
    actual = mole(old, pose_table(entity="data_collection_robot"))
    renamed = with_renames(actual, [RenameCandidate("table", old.name, old.name, "data_collection_entity")])
    assert compare(mole(entity_table(), pose_table()), renamed) == []


def test_a_column_rename_with_awkward_names_reaches_keys_and_definitions():
    odd = 'entity(id, "x")'
    actual = mole(entity_table(), pose_table(entity_column=odd))
    renamed = with_renames(actual, [RenameCandidate("column", "data_collection_pose", odd, "entity_id")])
    assert compare(mole(entity_table(), pose_table()), renamed) == []


def no_rows(query: str) -> int:
    return 0


def test_the_planner_renames_instead_of_dropping_and_every_operation_reverses():
    odd = "Entity Ref"
    actual = mole(entity_table(), pose_table(entity_column=odd))
    planner = AlignmentPlanner(mole(entity_table(), pose_table()), actual, no_rows)
    operations = planner.plan()
    assert [op.sql() for op in operations] == [
        'ALTER TABLE "data_collection_pose" RENAME COLUMN "Entity Ref" TO "entity_id"'
    ]
    assert operations[0].reverse().reverse() == operations[0]


def test_operations_write_their_reverse():
    serial = SerialToIdentity("t", "o'id")
    assert serial.reverse().reverse() == serial
    assert "pg_get_serial_sequence('\"public\".\"t\"', 'o''id')" in serial.sql()
    index = Index("i", True, "UNIQUE USING btree (a)", ("a",), "btree")
    assert CreateIndex("t", index).sql() == 'CREATE UNIQUE INDEX "i" ON "t" USING btree (a)'
    assert CreateIndex("t", index).reverse().sql() == 'DROP INDEX "i"'
    column = Column("c", TEXT, nullable=False)
    assert AddColumn("t", column).reverse().sql() == 'ALTER TABLE "t" DROP COLUMN "c"'
    aside = KeepColumnAside("t", column, ("a", "b"), 3)
    assert 'WHERE t."a" = k."a" AND t."b" = k."b"' in aside.reverse().sql()
    assert "RAISE EXCEPTION 'it''s  bad'" in WriteByHand("it's $ bad").sql()


def test_the_planner_counts_what_a_new_constraint_would_reject():
    queries = []

    def count(query: str) -> int:
        queries.append(query)
        return 4

    loose = replace(pose_table(), constraints=pose_table().constraints[:1])
    expected, actual = mole(entity_table(), pose_table()), mole(entity_table(), loose)
    [add] = AlignmentPlanner(expected, actual, count).plan()
    assert add.review.startswith("4 rows of data_collection_pose violate FOREIGN KEY (entity_id)")
    # As text: the plan may change either side's type before the key is added.
    assert 'r."id"::text = t."entity_id"::text' in queries[0]


def test_the_planner_counts_nothing_it_cannot_read_in_the_legacy_data():
    """A key on a column the plan adds has no legacy values to count; a key to a table the plan
    creates is broken by every row that has a value (the referenced table starts empty)."""
    queries = []

    def count(query: str) -> int:
        queries.append(query)
        return 0 if "IS NULL" in query or "GROUP BY" in query else 4

    pose = pose_table()
    loose = replace(pose, constraints=pose.constraints[:1])
    without_column = replace(loose, columns={name: column for name, column in pose.columns.items()
                                             if name != "entity_id"})
    plan = AlignmentPlanner(mole(entity_table(), pose), mole(entity_table(), without_column), count).plan()
    assert [type(operation).__name__ for operation in plan] == ["AddColumn", "AddConstraint"]
    assert plan[1].review == "" and not any("EXISTS" in query for query in queries)

    queries.clear()
    plan = AlignmentPlanner(mole(entity_table(), pose), mole(loose), count).plan()
    added_key = next(operation for operation in plan if isinstance(operation, AddConstraint)
                     and operation.table == "data_collection_pose")
    assert added_key.review.startswith("4 rows of data_collection_pose violate FOREIGN KEY (entity_id)")
    assert queries[-1].endswith('AS t WHERE t."entity_id" IS NOT NULL')


def inventory(rows: int, **columns: tuple[str, int, str]) -> dict:
    return {"rows": rows, "columns": {name: {"type": t, "non_null": n, "checksum": s}
                                      for name, (t, n, s) in columns.items()}}


def test_the_data_check_places_moved_tables_and_names_losses():
    before = {
        "public.a": inventory(3, id=("bigint", 3, "s1"), note=("text", 2, "s2")),
        "public.gone": inventory(5, id=("bigint", 5, "s3")),
        "public.kept": inventory(1, id=("bigint", 1, "s4")),
    }
    after = {
        "public.a": inventory(3, id=("bigint", 3, "s1")),
        "legacy.a__note": inventory(3, note=("text", 2, "s2")),
        "legacy.kept": inventory(1, id=("bigint", 1, "s4")),
    }
    result = check_data(before, after)
    assert result.losses == ["public.gone: table dropped with its 5 rows"]
    assert "public.kept -> legacy.kept" in result.moved
    assert "public.a.note -> legacy.a__note.note" in result.moved
    assert result.places["public.a"]["compare"] == ["id"]


def test_the_data_check_reports_conversions_fills_and_cleared_values():
    before = {"public.t": inventory(4, a=("text", 4, "x"), b=("text", 1, "y"), c=("text", 3, "z"))}
    after = {"public.t": inventory(4, a=("jsonb", 4, "x2"), b=("text", 4, "y2"), c=("text", 1, "z"))}
    result = check_data(before, after)
    assert result.converted == ["public.t.a: text -> jsonb"]
    assert result.filled and result.filled[0].startswith("public.t.b: 3 NULLs given values")
    assert result.suspects[("public.t", "c")] == "public.t.c: 2 of 3 non-NULL values set to NULL"


def test_values_a_data_fix_replaced_are_kept_not_lost_whatever_the_migration_did_to_the_type():
    before = {"public.t": inventory(4, id=("integer", 4, "k"), code=("character varying(20)", 4, "c"),
                                    speed=("double precision", 4, "v"))}
    after = {
        "public.t": inventory(4, id=("integer", 4, "k"), code=("integer", 4, "c2"),
                              speed=("double precision", 4, "v2")),
        "legacy.t__code": inventory(4, id=("integer", 4, "k"), code=("character varying(20)", 4, "c")),
        "legacy.t__speed": inventory(4, id=("integer", 4, "k"), speed=("double precision", 4, "v")),
    }
    result = check_data(before, after)
    assert not result.suspects and not result.losses
    assert "public.t.code: values replaced in place by a data fix; every original value kept in " \
           "legacy.t__code.code" in result.moved
    assert result.converted == ["public.t.code: character varying(20) -> integer"]
    assert result.places["public.t"]["compare"] == ["id"]
    # Without the copy, the changed values are a loss the row proof will name.
    del after["legacy.t__speed"]
    assert ("public.t", "speed") in check_data(before, after).suspects


def test_a_history_django_refuses_for_its_own_apps_is_one_line():
    detail = ("raise InconsistentMigrationHistory( | "
              "django.db.migrations.exceptions.InconsistentMigrationHistory: "
              "Migration auth.0006_require_contenttypes_0002 is applied before its dependency "
              "contenttypes.0002_remove_content_type_name on database 'default'.")
    with pytest.raises(ToolingError) as refused:
        refuse_inconsistent_history(CommandFailed(["manage.py", "migrate"], 1, detail))
    assert str(refused.value) == (
        "the dump's django_migrations records auth.0006_require_contenttypes_0002 as applied but not "
        "contenttypes.0002_remove_content_type_name, which it depends on: "
        "fix or remove those rows of the dump")
    refuse_inconsistent_history(CommandFailed(["manage.py", "migrate"], 1, "relation x does not exist"))


@pytest.mark.parametrize(
    "text, major",
    [("18.6", (18,)), ("15.20", (15,)), ("11.22 (Debian 11.22-1.pgdg120+1)", (11,)), ("9.6.24", (9, 6)),
     ("19beta1", (19,)), ("19devel", (19,))],
)
def test_postgresql_versions_reduce_to_their_major_release(text, major):
    assert major_release(text) == major


def test_a_version_without_a_number_is_refused():
    with pytest.raises(ValueError):
        major_release("devel")


BACKUP_MANIFEST = {"name": "b", "created_utc": "2026-11-30T16:12:40Z", "file": "b.dump", "format": "custom",
                   "sha256": "0" * 64, "size_bytes": 10, "migration_head": None}


def test_a_manifest_without_a_version_is_version_one_and_read_as_it_is():
    assert check_manifest(BACKUP_MANIFEST, "backup", "backup b") == BACKUP_MANIFEST


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"created_utc": "yesterday"}, "(created_utc): 'yesterday' does not match"),
        ({"size_bytes": "10"}, "(size_bytes): '10' is not of type 'integer'"),
        ({"manifest_version": MANIFEST_VERSION + 1}, f"has format version {MANIFEST_VERSION + 1}"),
    ],
)
def test_a_malformed_or_newer_manifest_is_refused_with_its_problem(change, problem):
    with pytest.raises(ManifestInvalid) as refused:
        check_manifest({**BACKUP_MANIFEST, **change}, "backup", "backup b")
    assert problem in str(refused.value) and refused.value.owner == "backup b"


def test_an_altered_bundle_names_each_altered_file(tmp_path):
    from tooling.errors import ChecksumMismatch
    from tooling.legacy.bundle_store import BundleStore

    store = BundleStore(tmp_path)
    manifest = {"name": "b", "created_utc": "2026-11-30T16:12:40Z", "migration_head": None,
                "source": {"file": "x.sql", "format": "plain", "size_bytes": 1},
                "migrated_dump": {"file": "migrated.dump", "format": "custom"},
                "verification": {"ok": True, "checks": {}}}
    with store.creating("b", manifest) as folder:
        (folder / "kept.txt").write_text("kept")
        (folder / "changed.txt").write_text("before")
    (tmp_path / "b" / "changed.txt").write_text("after")
    (tmp_path / "b" / "added.txt").write_text("new")
    with pytest.raises(ChecksumMismatch) as altered:
        store.get("b").verify_checksums()
    assert altered.value.owner == "bundle b"
    assert altered.value.problems == ("changed.txt changed", "added.txt was added")


def test_a_draft_is_numbered_after_every_migration_django_loads():
    from schema.writer import next_migration_name

    existing = ["0001_initial", "0010_image_and_pose_coordinate_check", "0011_legacy_divergent_registry"]
    assert next_migration_name(existing, "legacy_x") == "0012_legacy_x"
    assert next_migration_name([], "legacy_x") == "0001_legacy_x"


def test_a_renamed_key_column_is_followed_by_the_foreign_keys_that_reference_it():
    old_entity = replace(
        entity_table(),
        columns={"ident": replace(key(), name="ident"), "name": entity_table().columns["name"]},
        constraints=(Constraint(ConstraintKind.PRIMARY_KEY, "e_pkey", "PRIMARY KEY (ident)", ("ident",)),
                     entity_table().constraints[1]),
    )
    pose = pose_table()
    [fk] = pose.of_kind(ConstraintKind.FOREIGN_KEY)
    old_fk = replace(fk, referenced_columns=("ident",),
                     definition=fk.definition.replace("(id)", "(ident)"))
    old_pose = replace(pose, constraints=(pose.constraints[0], old_fk))
    renamed = with_renames(mole(old_entity, old_pose),
                           [RenameCandidate("column", "data_collection_entity", "ident", "id")])
    assert compare(mole(entity_table(), pose_table()), renamed) == []


def test_a_bundle_manifest_is_checked_below_its_top_level():
    bundle = {"name": "b", "created_utc": "2026-11-30T16:12:40Z", "migration_head": None, "files": {},
              "source": {"file": "x.sql", "format": "plain", "size_bytes": "12"},
              "migrated_dump": {"file": "migrated.dump", "format": "custom"},
              "verification": {"ok": True, "checks": {}}}
    with pytest.raises(ManifestInvalid, match=r"\(source/size_bytes\): '12' is not of type 'integer'"):
        check_manifest(bundle, "bundle", "bundle b")


def test_a_failed_commands_line_is_its_exception_not_its_traceback():
    from tooling.process import last_lines

    traceback = ('Traceback (most recent call last):\n  File "/x/manage.py", line 22, in <module>\n'
                 "    main()\n  File \"/x/dbtools/legacy_alignment.py\", line 95, in align\n"
                 "    raise MisplacedAlignment(\n"
                 "dbtools.legacy_alignment.MisplacedAlignment: 0011_x aligns here\n")
    assert last_lines(traceback) == "MisplacedAlignment: 0011_x aligns here"
    assert last_lines("notice: a\nERROR:  relation \"x\" does not exist\nLINE 1: ...\n") == (
        'ERROR:  relation "x" does not exist')
