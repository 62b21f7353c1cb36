"""Benchmark: `invoke legacy` against the floor of doing its work by hand, on the same legacy dump.

Starts from real Mole's own dump at migration 0005 (`../shared/real-mole/dumps/mole_real_0005.sql`:
Django 3.2's serial keys, the PostGIS image's extensions), scales its poses to N by repeating its
tracks a day later each time, and dumps that with plain pg_dump, as a user's old Mole would be.
Then times, in one run, `--repeat` rounds (this machine's timings vary by seconds) of:
- the floor: raw `psql -f` into a new database, `manage.py migrate`, `pg_dump -Fc` of the result;
- `invoke legacy --db` on the same file (load, lineage, drift conversion, migrate, verify schema
  and every row, dump and bundle).
Prints each round, the medians and their ratio, and the pipeline's peak memory; asserts nothing. The
reference and lineage caches are built once beforehand, as they are after a checkout's
first run.

    .venv/bin/python bench/legacy_pipeline.py [--poses 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from pathlib import Path

from measure import BIN
from measure import INVOKE
from measure import REPO
from measure import bench_server
from measure import psql
from measure import timed

REAL_DUMP = REPO.parent / "shared" / "real-mole" / "dumps" / "mole_real_0005.sql"
# Each pass copies every original pose one more day later, until there are N.
SCALE_POSES = """
INSERT INTO data_collection_pose (point, elevation, heading, "timestamp", entity_id, pose_source_id, trial_id)
SELECT p.point, p.elevation, p.heading, p."timestamp" + pass * interval '1 day', p.entity_id,
       p.pose_source_id, p.trial_id
FROM generate_series(1, {passes}) AS pass CROSS JOIN (SELECT * FROM data_collection_pose ORDER BY id) p
LIMIT {extra};
"""


def without_restrict_lines(source, target) -> None:
    """The dump without pg_dump's `\\restrict` lines, which an older psql does not know."""
    with source.open("rb") as lines, target.open("wb") as out:
        out.writelines(line for line in lines if not line.startswith((b"\\restrict ", b"\\unrestrict ")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=int, default=1_000_000, help="pose rows in the scaled dump")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of floor and pipeline (medians)")
    arguments = parser.parse_args()
    poses, repeat = arguments.poses, arguments.repeat
    with bench_server("bench") as (work, env):
        run = {"env": env, "cwd": REPO, "stdout": subprocess.DEVNULL}
        real = work / "real.sql"
        without_restrict_lines(REAL_DUMP, real)
        psql(env, "postgres", "-c", "CREATE ROLE mole_user")  # the dump's owner, as in Mole's .env
        psql(env, "postgres", "-c", "CREATE DATABASE scaled TEMPLATE template0")
        psql(env, "scaled", "--single-transaction", "-f", str(real))
        extra = max(poses - 10_800, 0)
        psql(env, "scaled", "-c", SCALE_POSES.format(passes=extra // 10_800 + 1, extra=extra))
        legacy_dump = work / "legacy.sql"
        with legacy_dump.open("wb") as out:
            subprocess.run([str(BIN / "pg_dump"), "--dbname=scaled"], env=env, stdout=out, check=True)
        # The caches (reference schema, lineage) once, as after a checkout's first run.
        subprocess.run([INVOKE, "legacy", "--db", str(REAL_DUMP), "--name", "warm-caches"], **run, check=True)

        rounds = [timed_round(env, work, legacy_dump, number) for number in range(1, repeat + 1)]
        size_mib = legacy_dump.stat().st_size / 2**20
        print(f"poses: {poses:,}   legacy dump (real Mole at 0005, plain SQL): {size_mib:.1f} MiB")
        for number, (load_s, migrate_s, dump_s, pipeline_s, _) in enumerate(rounds, start=1):
            floor_s = load_s + migrate_s + dump_s
            print(f"round {number}: floor psql -f {load_s:6.2f} s + migrate {migrate_s:5.2f} s + "
                  f"pg_dump {dump_s:5.2f} s = {floor_s:6.2f} s;  invoke legacy {pipeline_s:6.2f} s;  "
                  f"ratio {pipeline_s / floor_s:4.2f}")
        floor_median = statistics.median(sum(round_[:3]) for round_ in rounds)
        pipeline_median = statistics.median(round_[3] for round_ in rounds)
        print(f"median of {repeat}: floor {floor_median:6.2f} s;  invoke legacy {pipeline_median:6.2f} s;  "
              f"ratio {pipeline_median / floor_median:4.2f};  largest process RSS "
              f"{max(round_[4] for round_ in rounds)} MiB (the server's own memory not counted)")


def timed_round(
    env: dict[str, str], work: Path, legacy_dump: Path, number: int
) -> tuple[float, float, float, float, int]:
    """One round: (psql s, migrate s, pg_dump s, legacy s, peak RSS MiB). Odd rounds time the floor
    first, even ones the pipeline, so that neither side always follows the other's load."""
    if number % 2:
        floor = timed_floor(env, work, legacy_dump, f"floor{number}")
        pipeline = timed_pipeline(env, legacy_dump, f"bench{number}")
    else:
        pipeline = timed_pipeline(env, legacy_dump, f"bench{number}")
        floor = timed_floor(env, work, legacy_dump, f"floor{number}")
    return (*floor, *pipeline)


def timed_floor(env: dict[str, str], work: Path, legacy_dump: Path, floor: str) -> tuple[float, float, float]:
    """psql -f into a new database `floor`, `invoke migrate`, pg_dump -Fc: seconds of each."""
    # Each side starts with no dirty buffers of the side before it to write.
    psql(env, "postgres", "-c", "CHECKPOINT")
    # From template0: the dump creates PostGIS's extensions itself (the server's template1 has them).
    psql(env, "postgres", "-c", f"CREATE DATABASE {floor} TEMPLATE template0")
    load_s, _ = timed(
        [str(BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
         f"--dbname={floor}", "-f", str(legacy_dump)],
        env,
        stdout=subprocess.DEVNULL,
    )
    migrate_s, _ = timed(
        [INVOKE, "migrate"], {**env, "INVOKE_MOLE_DATABASE": floor}, cwd=REPO, stdout=subprocess.DEVNULL
    )
    with (work / "floor.dump").open("wb") as out:
        dump_s, _ = timed(
            [str(BIN / "pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--dbname={floor}"],
            env,
            stdout=out,
        )
    psql(env, "postgres", "-c", f"DROP DATABASE {floor}")
    return load_s, migrate_s, dump_s


def timed_pipeline(env: dict[str, str], legacy_dump: Path, bundle: str) -> tuple[float, int]:
    """`invoke legacy` on the dump into bundle `bundle`: seconds, and the largest child's peak RSS."""
    psql(env, "postgres", "-c", "CHECKPOINT")
    argv = [INVOKE, "legacy", "--db", str(legacy_dump), "--name", bundle]
    return timed(argv, env, cwd=REPO, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
