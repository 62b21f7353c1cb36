"""Benchmark: `invoke backup` / `invoke restore` against raw `pg_dump` / `pg_restore` on the same data.

Prints times and ratios (and the task's peak memory); asserts nothing. Uses its own
local server in a temporary folder, so it never touches `.mole/`.

    .venv/bin/python bench/backup_restore.py [--poses 1000000]
"""

from __future__ import annotations

import subprocess

from measure import BIN
from measure import INVOKE
from measure import REPO
from measure import filled_database
from measure import timed
from measure import timed_raw_restore


def main() -> None:
    with filled_database(__doc__.splitlines()[0]) as (work, env, poses):
        raw_dump = work / "raw.dump"
        with raw_dump.open("wb") as out:
            raw_dump_s, _ = timed(
                [str(BIN / "pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--dbname=bench"],
                env,
                stdout=out,
            )
        task_dump_s, task_dump_mib = timed(
            [INVOKE, "backup", "--label", "bench"], env, cwd=REPO, stdout=subprocess.DEVNULL
        )
        [dump] = (work / "backups" / "backups").glob("*_bench.dump")
        raw_restore_s = timed_raw_restore(env, raw_dump, "raw_restore")
        task_restore_s, task_restore_mib = timed(
            [INVOKE, "restore", "--backup", dump.stem, "--yes"], env, cwd=REPO, stdout=subprocess.DEVNULL
        )
        size_mib = dump.stat().st_size / 2**20
        print(f"poses: {poses:,}   dump size: {size_mib:.1f} MiB")
        print(
            f"backup:  raw pg_dump {raw_dump_s:6.2f} s   invoke backup  {task_dump_s:6.2f} s   "
            f"ratio {task_dump_s / raw_dump_s:4.2f}   largest process RSS {task_dump_mib} MiB"
        )
        print(
            f"restore: raw pg_restore {raw_restore_s:6.2f} s   invoke restore {task_restore_s:6.2f} s   "
            f"ratio {task_restore_s / raw_restore_s:4.2f}   largest process RSS {task_restore_mib} MiB "
            "(the task also takes a safety backup first)"
        )


if __name__ == "__main__":
    main()
