"""Benchmark: the untrusted-dump loader against raw psql and pg_restore, on the same dumps.

Fills a database with the sample campaign and N poses, dumps it as plain SQL, as
`--column-inserts` SQL (every row a statement, the lexer's worst case) and in custom
format, then times in one run, each into a new database:
- the floor: `psql --single-transaction -f` for the SQL files, `pg_restore` for the custom one;
- `load_dump`: the script reader, the statement policy and psql as the load role
  (for the custom dump, `pg_restore --file=-` first), plus the dump-code check.
Prints times, ratios and this process's peak memory; asserts nothing.

    .venv/bin/python bench/dump_loading.py [--poses 1000000]
"""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path

from measure import BIN
from measure import filled_database
from measure import psql
from measure import timed

from tooling.legacy.dump_loading import load_dump
from tooling.legacy.inputs import detect
from tooling.process import ProcessRunner
from tooling.server.backends import LocalBackend

FORMATS = {
    "plain SQL": ["--format=plain"],
    "column inserts": ["--format=plain", "--column-inserts"],
    "custom format": ["--format=custom"],
}


def floor_seconds(env: dict[str, str], dump: Path, database: str, custom: bool) -> float:
    # From template0: the dump creates PostGIS's extensions itself (the server's template1 has them).
    psql(env, "postgres", "-c", f"CREATE DATABASE {database} TEMPLATE template0")
    if custom:
        argv = [str(BIN / "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                "--single-transaction", f"--dbname={database}", str(dump)]
    else:
        argv = [str(BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                f"--dbname={database}", "-f", str(dump)]
    seconds, _ = timed(argv, env, stdout=subprocess.DEVNULL)
    return seconds


def loader_seconds(backend: LocalBackend, dump: Path, database: str) -> float:
    backend.admin.create_database(database)
    start = time.perf_counter()
    load_dump(backend, detect(dump), database)
    return time.perf_counter() - start


def main() -> None:
    with filled_database(__doc__.splitlines()[0]) as (work, env, poses):
        backend = LocalBackend(ProcessRunner(), "bench", work, work / "server")
        print(f"poses: {poses:,}")
        for number, (label, options) in enumerate(FORMATS.items()):
            dump = work / f"bench_{number}.dump"
            subprocess.run([str(BIN / "pg_dump"), *options, "--dbname=bench", f"--file={dump}"], env=env,
                           check=True)
            custom = "--format=custom" in options
            floor = floor_seconds(env, dump, f"floor_{number}", custom)
            loader = loader_seconds(backend, dump, f"loaded_{number}")
            size_mib = dump.stat().st_size / 2**20
            print(f"{label:<15} {size_mib:7.1f} MiB   floor {floor:6.2f} s   load_dump {loader:6.2f} s   "
                  f"ratio {loader / floor:4.2f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"this process's peak RSS: {peak} MiB (the loader streams; the server's memory not counted)")


if __name__ == "__main__":
    main()
