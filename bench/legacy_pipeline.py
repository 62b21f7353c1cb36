"""Benchmark: `invoke legacy` against the floor of doing its work by hand, on the same legacy dump.

Generates an old Mole (at migration 0005) holding N pose rows as a plain pg_dump
file, then times in one run:
- the floor: raw `psql -f` into a new database, `manage.py migrate`, `pg_dump -Fc` of the result;
- `invoke legacy --db` on the same file (load, lineage, migrate, verify schema and data,
  dump and bundle).
Prints both times, their ratio, and the pipeline's peak memory; asserts nothing. The
reference and lineage caches are built once beforehand, as they are after a checkout's
first run.

    .venv/bin/python bench/legacy_pipeline.py [--poses 1000000]
"""

from __future__ import annotations

import subprocess

from measure import BIN
from measure import INVOKE
from measure import REPO
from measure import filled_database
from measure import psql
from measure import timed

OLD_MIGRATION = "0005"


def main() -> None:
    with filled_database(__doc__.splitlines()[0]) as (work, env, poses):
        run = {"env": env, "cwd": REPO, "stdout": subprocess.DEVNULL}
        subprocess.run(
            [INVOKE, "migrate", "--app", "data_collection", "--target", OLD_MIGRATION], **run, check=True
        )
        legacy_dump = work / "legacy.sql"
        with legacy_dump.open("wb") as out:
            subprocess.run(
                [str(BIN / "pg_dump"), "--no-owner", "--no-privileges", "--dbname=bench"],
                env=env,
                stdout=out,
                check=True,
            )
        subprocess.run(
            [
                INVOKE,
                "legacy",
                "--db",
                str(REPO / "examples/legacy/old_mole_0005.sql"),
                "--name",
                "warm-caches",
            ],
            **run,
            check=True,
        )

        # From template0: the dump creates PostGIS's extensions itself (the server's template1 has them).
        psql(env, "postgres", "-c", "CREATE DATABASE floor TEMPLATE template0")
        load_s, _ = timed(
            [
                str(BIN / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "--dbname=floor",
                "-f",
                str(legacy_dump),
            ],
            env,
            stdout=subprocess.DEVNULL,
        )
        migrate_s, _ = timed(
            [INVOKE, "migrate"], {**env, "INVOKE_MOLE_DATABASE": "floor"}, cwd=REPO, stdout=subprocess.DEVNULL
        )
        with (work / "floor.dump").open("wb") as out:
            dump_s, _ = timed(
                [str(BIN / "pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--dbname=floor"],
                env,
                stdout=out,
            )
        floor_s = load_s + migrate_s + dump_s
        pipeline_s, pipeline_mib = timed(
            [INVOKE, "legacy", "--db", str(legacy_dump), "--name", "bench"],
            env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        size_mib = legacy_dump.stat().st_size / 2**20
        print(f"poses: {poses:,}   legacy dump (plain SQL at {OLD_MIGRATION}): {size_mib:.1f} MiB")
        print(
            f"floor:  psql -f {load_s:6.2f} s + migrate {migrate_s:5.2f} s + pg_dump {dump_s:5.2f} s "
            f"= {floor_s:6.2f} s"
        )
        print(
            f"invoke legacy: {pipeline_s:6.2f} s   ratio {pipeline_s / floor_s:4.2f}   "
            f"largest process RSS {pipeline_mib} MiB (the server's own memory not counted)"
        )


if __name__ == "__main__":
    main()
