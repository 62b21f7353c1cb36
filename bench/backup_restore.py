"""Benchmark: `invoke backup` / `invoke restore` against raw `pg_dump` / `pg_restore` on the same data.

Prints times and ratios (and the task's peak memory); asserts nothing. Uses its own
embedded server in a temporary folder, so it never touches `.mole/`.

    .venv/bin/python bench/backup_restore.py [--poses 1000000]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "mole"))

from tooling.embedded_server import EmbeddedServer  # noqa: E402
from tooling.embedded_server import binaries_dir  # noqa: E402
from tooling.process import ProcessRunner  # noqa: E402

INVOKE = str(Path(sys.executable).parent / "invoke")
FILL_POSES = """
INSERT INTO data_collection_pose (entity_id, trial_id, pose_source_id, timestamp, latitude, longitude,
                                  elevation, heading, speed)
SELECT e.id, t.id, NULL, now() + n * interval '1 second', 47 + (n % 1000) / 1e5, 8 + (n % 777) / 1e5,
       400 + n % 50, n % 360, 1.5
FROM generate_series(1, {count}) AS n,
     (SELECT min(id) AS id FROM data_collection_entity) e,
     (SELECT min(id) AS id FROM data_collection_trial) t
"""


def timed(argv: list[str], env: dict[str, str], **kwargs) -> tuple[float, int]:
    """Wall seconds and the child's peak RSS in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, **kwargs)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=int, default=1_000_000, help="pose rows to generate")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mole-bench-"))
    server = EmbeddedServer(work / "server", ProcessRunner())
    try:
        server.start()
        env = {**os.environ, **server.client_environment(), "PYTHONWARNINGS": "ignore",
               "INVOKE_MOLE_BACKEND": "local", "INVOKE_MOLE_DATA_DIR": str(work / "server"),
               "INVOKE_MOLE_BACKUPS_DIR": str(work / "backups"), "INVOKE_MOLE_DATABASE": "bench"}
        bin_dir = binaries_dir()
        run = {"env": env, "cwd": REPO, "stdout": subprocess.DEVNULL}
        subprocess.run([INVOKE, "migrate"], **run, check=True)
        subprocess.run([INVOKE, "sample-data"], **run, check=True)
        subprocess.run([str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname=bench",
                        "-c", FILL_POSES.format(count=options.poses)], env=env, check=True)
        raw_dump = work / "raw.dump"
        with raw_dump.open("wb") as out:
            raw_dump_s, _ = timed([str(bin_dir / "pg_dump"), "--format=custom", "--no-owner",
                                   "--no-privileges", "--dbname=bench"], env, stdout=out)
        task_dump_s, task_dump_mib = timed([INVOKE, "backup", "--label", "bench"], env, cwd=REPO,
                                           stdout=subprocess.DEVNULL)
        [dump] = (work / "backups" / "backups").glob("*_bench.dump")
        subprocess.run([str(bin_dir / "psql"), "-X", "-q", "--dbname=postgres", "-c",
                        "CREATE DATABASE raw_restore"], env=env, check=True)
        raw_restore_s, _ = timed([str(bin_dir / "pg_restore"), "--no-owner", "--no-privileges",
                                  "--exit-on-error", "--dbname=raw_restore", str(raw_dump)], env)
        task_restore_s, task_restore_mib = timed([INVOKE, "restore", "--backup", dump.stem, "--yes"], env,
                                                 cwd=REPO, stdout=subprocess.DEVNULL)
        size_mib = dump.stat().st_size / 2**20
        print(f"poses: {options.poses:,}   dump size: {size_mib:.1f} MiB")
        print(f"backup:  raw pg_dump {raw_dump_s:6.2f} s   invoke backup  {task_dump_s:6.2f} s   "
              f"ratio {task_dump_s / raw_dump_s:4.2f}   largest process RSS {task_dump_mib} MiB")
        print(f"restore: raw pg_restore {raw_restore_s:6.2f} s   invoke restore {task_restore_s:6.2f} s   "
              f"ratio {task_restore_s / raw_restore_s:4.2f}   largest process RSS {task_restore_mib} MiB "
              "(the task also takes a safety backup first)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
