"""Benchmark: `invoke open` and its overview page on a big trial, against raw pg_restore and psql.

One trial holds N poses of one entity (the worst case for a pose track). Prints:
the first open (restore, migrate, login, server up) against a raw `pg_restore`
of the same dump; a reopen, which reuses the copy; the overview page against
`psql` running the page's own track query; and the web server's peak memory.
Asserts nothing; uses its own local server in a temporary folder.

    PYTHONPATH=mole .venv/bin/python bench/open_overview.py [--poses 1000000]
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

from measure import INVOKE
from measure import REPO
from measure import filled_database
from measure import psql
from measure import timed_raw_restore

from data_collection.track_query import POINTS_PER_TRACK
from data_collection.track_query import THINNED_TRACKS_SQL

PAGE_LOADS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def open_until_serving(
    backup: str, env: dict[str, str], port: int, log: Path
) -> tuple[subprocess.Popen, float]:
    """Start `invoke open` and time it until it says it is serving; its stderr (request log) goes to `log`."""
    start = time.perf_counter()
    with log.open("a") as errors:
        process = subprocess.Popen(
            [INVOKE, "open", "--backup", backup, "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )
    for line in process.stdout:
        if "Press Ctrl-C" in line:
            return process, time.perf_counter() - start
    code = process.wait()
    raise SystemExit(
        f"invoke open exited with status {code} before serving: {log.read_text().strip()[-500:]}"
    )


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGINT)
    process.wait(120)


def web_server_peak_mib(port: int) -> int:
    """VmHWM of the runserver process listening on `port`."""
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f"127.0.0.1:{port}" in status.read_bytes().decode(errors="replace"):
                text = (status.parent / "status").read_text()
                return int(re.search(r"VmHWM:\s+(\d+) kB", text)[1]) // 1024
        except OSError:
            continue
    return -1


def median_seconds(action, times: int = PAGE_LOADS) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    with filled_database(__doc__.splitlines()[0]) as (work, env, poses):
        subprocess.run(
            [INVOKE, "backup", "--label", "bench"], env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL
        )
        [dump] = (work / "backups" / "backups").glob("*_bench.dump")
        raw_restore_s = timed_raw_restore(env, dump, "raw_restore")
        port = free_port()
        process, first_open_s = open_until_serving(dump.stem, env, port, work / "open.log")
        try:
            url = f"http://127.0.0.1:{port}/"
            page_bytes = len(urllib.request.urlopen(url, timeout=300).read())
            page_s = median_seconds(lambda: urllib.request.urlopen(url, timeout=300).read())
            server_mib = web_server_peak_mib(port)
        finally:
            stop(process)
        process, reopen_s = open_until_serving(dump.stem, env, port, work / "open.log")
        stop(process)

        trials = "ARRAY(SELECT id FROM data_collection_trial)"
        query = (
            THINNED_TRACKS_SQL.replace("%(trials)s", trials)
            .replace("%(points)s", str(POINTS_PER_TRACK))
            .replace("%%", "%")
        )
        query_s = median_seconds(lambda: psql(env, "raw_restore", "-c", query))
        every_pose = "SELECT ST_Y(point), ST_X(point) FROM data_collection_pose"
        every_pose_s = median_seconds(lambda: psql(env, "raw_restore", "-c", every_pose), 1)

        print(f"poses: {poses:,} in one track   dump: {dump.stat().st_size / 2**20:.1f} MiB")
        print(
            f"first open: raw pg_restore {raw_restore_s:6.2f} s   invoke open until serving "
            f"{first_open_s:6.2f} s   ratio {first_open_s / raw_restore_s:4.2f}"
        )
        print(f"reopen (the copy reused): {reopen_s:6.2f} s")
        print(
            f"overview page: psql, its track query {query_s:6.2f} s   page {page_s:6.2f} s   "
            f"ratio {page_s / query_s:4.2f}   ({page_bytes / 1024:.0f} KiB of HTML; "
            f"psql reading every pose instead: {every_pose_s:.2f} s)"
        )
        print(f"web server peak RSS: {server_mib} MiB")


if __name__ == "__main__":
    main()
