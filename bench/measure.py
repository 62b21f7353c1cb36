"""What the benchmarks share: a private local server, pose rows to fill it, a timer."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tooling.process import ProcessRunner
from tooling.server.local_server import LocalServer
from tooling.server.local_server import binaries_dir

REPO = Path(__file__).resolve().parent.parent


INVOKE = str(Path(sys.executable).parent / "invoke")
BIN = binaries_dir()
# One track near the sample's test range; points in WGS 84, as Mole stores them.
FILL_POSES = """
INSERT INTO data_collection_pose (entity_id, trial_id, pose_source_id, timestamp, point,
                                  elevation, heading, speed, velocity)
SELECT e.name, t.id, s.id, now() + n * interval '1 second',
       ST_SetSRID(ST_MakePoint(-116.585 + (n % 777) / 1e5, 35.295 + (n % 1000) / 1e5), 4326),
       400 + n % 50, n % 360, 1.5, '{{}}'
FROM generate_series(1, {count}) AS n,
     (SELECT min(name) AS name FROM data_collection_entity) e,
     (SELECT min(id) AS id FROM data_collection_trial) t,
     (SELECT min(id) AS id FROM data_collection_posesource) s
"""


def timed(argv: list[str], env: dict[str, str], **kwargs) -> tuple[float, int]:
    """Wall seconds and the largest child's peak RSS so far, in MiB."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, **kwargs)
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def psql(env: dict[str, str], database: str, *args: str) -> None:
    subprocess.run(
        [str(BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={database}", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def timed_raw_restore(env: dict[str, str], dump: Path, database: str) -> float:
    """Seconds a bare `pg_restore` of `dump` into a new `database` takes: the floor for restores."""
    # From template0: the dump creates PostGIS's extensions itself, and the local server's
    # template1 has them already (as `restore` does it, in tooling.server.database_admin).
    psql(env, "postgres", "-c", f"CREATE DATABASE {database} TEMPLATE template0")
    restore = [str(BIN / "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    seconds, _ = timed([*restore, f"--dbname={database}", str(dump)], env)
    return seconds


@contextmanager
def bench_server(database: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A started local server in a temporary folder, and the environment for invoke and the tools."""
    work = Path(tempfile.mkdtemp(prefix="mole-bench-"))
    server = LocalServer(work / "server", ProcessRunner())
    try:
        server.start()
        yield (
            work,
            {
                **os.environ,
                **server.client_environment(),
                "PYTHONWARNINGS": "ignore",
                "INVOKE_MOLE_BACKEND": "local",
                "INVOKE_MOLE_DATA_DIR": str(work / "server"),
                "INVOKE_MOLE_BACKUPS_DIR": str(work / "backups"),
                "INVOKE_MOLE_DATABASE": database,
            },
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def filled_database(description: str, database: str = "bench") -> Iterator[tuple[Path, dict[str, str], int]]:
    """`--poses N` from the command line; a server whose `database` holds the sample campaign and N poses."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--poses", type=int, default=1_000_000, help="pose rows to generate")
    poses = parser.parse_args().poses
    with bench_server(database) as (work, env):
        for task in ("migrate", "sample-data"):
            subprocess.run([INVOKE, task], env=env, cwd=REPO, stdout=subprocess.DEVNULL, check=True)
        psql(env, database, "-c", FILL_POSES.format(count=poses))
        yield work, env, poses
