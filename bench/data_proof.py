"""Benchmark: the data proof (inventory sums and per-row digests) against loading the same data.

Dumps a database of N pose rows as plain SQL, then times in one run:
- the floor: raw `psql -f` of that dump into a new database;
- on the loaded copy, what `invoke legacy` adds to prove no data was lost: recording every
  row's digests (after the boundary of row_versions.py), the sums per column from them, after
  the migration the check that no row was written since the boundary (which spares the tables it
  finds a second read), the sums again from the tables (what a table a migration wrote into
  costs), and the comparison by primary key (here nothing changes in between: the equal sums
  prove every table, so no table is compared row by row).
Prints each time, its ratio to the load, and the digests' size on disk; asserts nothing.

    .venv/bin/python bench/data_proof.py [--poses 1000000]
"""

from __future__ import annotations

import subprocess
import time

from measure import BIN
from measure import REPO
from measure import filled_database
from measure import timed

from tooling.legacy.data_check import check_data
from tooling.legacy.data_inventory import take_inventory
from tooling.legacy.row_proof import PROOF_SCHEMA
from tooling.legacy.row_proof import compare_rows
from tooling.legacy.row_proof import drop_proof
from tooling.legacy.row_proof import record_rows
from tooling.legacy.row_versions import mark_boundary
from tooling.legacy.row_versions import unwritten_tables
from tooling.process import ProcessRunner
from tooling.server.backends import LocalBackend
from tooling.server.database_facts import schema_snapshot


def seconds_of(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    with filled_database(__doc__.splitlines()[0]) as (work, env, poses):
        backend = LocalBackend(ProcessRunner(), "bench", REPO / "mole", work / "server")
        dump = work / "bench.sql"
        subprocess.run([str(BIN / "pg_dump"), "--no-owner", "--no-privileges", "--dbname=bench",
                        f"--file={dump}"], env=env, check=True)
        backend.admin.create_database("loaded", bare=True)  # the dump creates its extensions
        load, _ = timed([str(BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                         "--dbname=loaded", "-f", str(dump)], env, stdout=subprocess.DEVNULL)
        snapshot = schema_snapshot(backend, "loaded")
        public = {"public": snapshot}
        boundary = mark_boundary(backend, "loaded")
        record, recorded = seconds_of(lambda: record_rows(backend, "loaded", snapshot))
        inventory, before = seconds_of(lambda: take_inventory(backend, "loaded", public, recorded))
        size = backend.tools.value(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            f"ON n.oid = c.relnamespace WHERE n.nspname = '{PROOF_SCHEMA}'",
            database="loaded",
        )
        counts = {name: table["rows"] for name, table in before.items()}
        unwritten_check, unwritten = seconds_of(
            lambda: unwritten_tables(backend, "loaded", boundary, counts, set(before)))
        assert unwritten == set(before), set(before) - unwritten
        inventory_after, after = seconds_of(lambda: take_inventory(backend, "loaded", public))
        data = check_data(before, after)
        compare, comparison = seconds_of(lambda: compare_rows(backend, "loaded", recorded, data.places))
        drop_proof(backend, "loaded")
        assert not comparison.differences, comparison.differences
        print(f"poses: {poses:,}   dump {dump.stat().st_size / 2**20:.1f} MiB")
        print(f"floor: psql -f        {load:7.2f} s")
        steps = (("digests before", record), ("sums before", inventory), ("no row written", unwritten_check),
                 ("compare by key", compare))
        for label, seconds in (*steps, ("sums after (written)", inventory_after)):
            print(f"{label:<21} {seconds:7.2f} s   ratio to load {seconds / load:4.2f}")
        total = sum(seconds for _, seconds in steps)
        print(f"proof in all          {total:7.2f} s   ratio to load {total / load:4.2f}   "
              "(no table written; each one written adds its sums after)   "
              f"digests on disk {int(size) / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
