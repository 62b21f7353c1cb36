"""A table the migration wrote no row into keeps its inventory from before the migration and is
not read again (tooling/legacy/row_versions.py), but only when nothing about its rows, its key or
its columns' text can have changed: each test changes a table the way a migration might, without
writing a row where it can, and checks that the change is still found.
"""

from __future__ import annotations

import psycopg2
import test_row_proof
from test_row_proof import TABLE
from test_row_proof import proof_after

from tooling.legacy.data_inventory import take_inventory
from tooling.legacy.pipeline import data_after
from tooling.legacy.row_proof import compare_rows
from tooling.legacy.row_proof import record_rows
from tooling.legacy.row_versions import mark_boundary
from tooling.server.database_facts import schema_snapshot

backend = test_row_proof.backend  # the module-scoped fixture: a project copy on the test server
POSES = "public.data_collection_pose"


def test_a_table_nothing_wrote_into_is_not_read_again_and_one_written_row_makes_it_read(backend):
    data, differences, _ = proof_after(backend, "SELECT 1")
    assert data.unwritten == [POSES] and differences == [] and data.losses == []
    # The same value written again is a new row version: the table is read, and found whole.
    data, differences, _ = proof_after(backend, "UPDATE data_collection_pose SET note = note WHERE id = 5")
    assert data.unwritten == [] and differences == [] and data.losses == []
    assert data.places[POSES]["same_sums"]


def test_deleted_rows_are_found_though_no_row_was_written(backend):
    data, differences, _ = proof_after(backend, "DELETE FROM data_collection_pose WHERE id IN (3, 4)")
    assert data.unwritten == []
    assert differences == [f"{POSES}: 2 original rows missing (first keys: 3, 4)"]


def test_a_column_added_without_a_rewrite_keeps_the_table_unread_a_renamed_one_does_not(backend):
    data, _, _ = proof_after(backend, "ALTER TABLE data_collection_pose ADD COLUMN speed float8 DEFAULT 0")
    assert data.unwritten == [POSES] and data.losses == []
    data, _, _ = proof_after(backend, "ALTER TABLE data_collection_pose RENAME COLUMN note TO remark")
    assert data.unwritten == []
    assert data.moved == [f"{POSES}.note -> {POSES}.remark"]


def test_a_type_changed_without_a_rewrite_is_reported_as_converted(backend):
    """text to varchar is binary coercible: PostgreSQL writes no row, but the column's type is new."""
    data, _, _ = proof_after(backend, "ALTER TABLE data_collection_pose ALTER COLUMN note TYPE varchar")
    assert data.unwritten == []
    assert data.converted == [f"{POSES}.note: text -> character varying"]


def test_an_enum_label_renamed_in_place_changes_values_and_is_found(backend):
    """ALTER TYPE ... RENAME VALUE changes the text of every value with that label and writes no
    row: a table with a column of a type that is not a base type is always read again."""
    sources = ("CREATE TYPE source_kind AS ENUM ('gps', 'rtk'); "
               "CREATE TABLE data_collection_source (id integer PRIMARY KEY, kind source_kind); "
               "INSERT INTO data_collection_source SELECT n, 'gps' FROM generate_series(1, 10) AS n;")
    data, differences, _ = proof_after(backend, "ALTER TYPE source_kind RENAME VALUE 'gps' TO 'GPS'",
                                       before_sql=sources)
    assert data.unwritten == [POSES]
    assert differences == [
        "public.data_collection_source.kind: 10 original values changed (first keys: 1, 2, 3)"]


def test_a_table_without_columns_is_counted_and_kept(backend):
    """`CREATE TABLE t ()` is valid SQL a dump may hold: its rows are still counted."""
    bare = "CREATE TABLE data_collection_bare (); INSERT INTO data_collection_bare DEFAULT VALUES;"
    data, _, _ = proof_after(backend, "SELECT 1", before_sql=bare)
    assert "public.data_collection_bare" in data.unwritten and data.losses == []
    data, _, _ = proof_after(backend, "DELETE FROM data_collection_bare", before_sql=bare)
    assert data.losses == ["public.data_collection_bare: 1 of 1 row deleted"]


def test_rows_deleted_from_a_parent_whose_child_holds_old_rows_are_found(backend):
    """A child's rows are read through its parent: they could stand in for the parent's own."""
    child = ("CREATE TABLE data_collection_child (id integer PRIMARY KEY, source text, x float8, "
             "note text); INSERT INTO data_collection_child SELECT n, 'gps', n, 'child' "
             "FROM generate_series(1001, 1003) AS n;")
    adopted = ("ALTER TABLE data_collection_child INHERIT data_collection_pose; "
               "DELETE FROM ONLY data_collection_pose WHERE id IN (1, 2, 3)")
    data, differences, _ = proof_after(backend, adopted, before_sql=child)
    assert data.unwritten == []
    assert differences == [f"{POSES}: 3 original rows missing (first keys: 1, 2, 3)"]


def test_a_column_naming_a_catalog_object_changes_with_its_name_and_is_found(backend):
    """A regclass value prints its table's name: renaming the table changes it, writing no row."""
    refs = ("CREATE TABLE data_collection_target (id integer); "
            "CREATE TABLE data_collection_ref (id integer PRIMARY KEY, target regclass); "
            "INSERT INTO data_collection_ref VALUES (1, 'data_collection_target');")
    # A function of the same name elsewhere (a dump may make one) changes how regclassout prints.
    shadowing = "CREATE FUNCTION public.regclassout(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';"
    for shadow in ("", shadowing):
        data, differences, _ = proof_after(backend, "ALTER TABLE data_collection_target RENAME TO renamed",
                                           before_sql=shadow + refs)
        assert "public.data_collection_ref" not in data.unwritten and POSES in data.unwritten
        assert differences == ["public.data_collection_ref.target: 1 original value changed (first keys: 1)"]


def test_a_transaction_begun_before_the_boundary_that_writes_after_it_is_found(backend):
    """Its id is older than any the boundary's transaction is given, but it was still running."""
    with backend.admin.scratch_database("proof") as database:
        backend.tools.statements([TABLE], database=database)
        server = backend.client_environment()
        early = psycopg2.connect(dbname=database, host=server["PGHOST"], port=server["PGPORT"],
                                 user=server["PGUSER"])
        try:
            writer = early.cursor()
            writer.execute("SELECT txid_current()")
            snapshot = schema_snapshot(backend, database)
            boundary = mark_boundary(backend, database)
            recorded = record_rows(backend, database, snapshot)
            before = take_inventory(backend, database, {"public": snapshot}, recorded)
            writer.execute("UPDATE data_collection_pose SET note = 'changed' WHERE id = 5")
            early.commit()
        finally:
            early.close()
        data, _ = data_after(backend, database, before, {"public": schema_snapshot(backend, database)},
                             boundary)
        comparison = compare_rows(backend, database, recorded, data.places)
    assert data.unwritten == []
    assert [difference.describe() for difference in comparison.differences] == [
        f"{POSES}.note: 1 original value changed (first keys: 5)"]
