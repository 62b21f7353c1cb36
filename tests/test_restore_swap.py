"""A restore cannot lose the live database: its swap is all or nothing, and a half-done one is repaired."""

from __future__ import annotations


def databases(project) -> list[str]:
    rows = project.sql(f"SELECT datname FROM pg_database WHERE datname LIKE '{project.database}%' ORDER BY 1",
                       "postgres")
    return [row[0] for row in rows]


def notes(project) -> int:
    return project.sql("SELECT count(*) FROM data_collection_note")[0][0]


def test_a_swap_that_fails_between_its_two_renames_leaves_the_live_database_as_it_was(migrated):
    migrated.invoke("backup", "--label", "good", check=True)
    [good] = migrated.backups.glob("*_good.dump")
    migrated.sql("DELETE FROM data_collection_note")
    result = migrated.invoke("restore", "--backup", good.stem, "--yes",
                             extra_env={"MOLE_FAULT_AT": "between-renames"})
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if line]
    assert line.startswith("error: ") and "fault injected at between-renames" in line
    assert databases(migrated) == [migrated.database]
    assert notes(migrated) == 0
    migrated.invoke("restore", "--backup", good.stem, "--yes", check=True)
    assert notes(migrated) > 0 and databases(migrated) == [migrated.database]


def test_a_swap_cut_short_after_its_commit_is_finished_by_the_next_task(migrated):
    """The new live database is in place and the old one still there: the next task drops the old one."""
    retired = f"{migrated.database}__replaced"
    migrated.sql(f'CREATE DATABASE "{retired}"', "postgres")
    result = migrated.invoke("verify", check=True)
    assert f"note: found {retired} from an interrupted restore" in result.stderr
    assert databases(migrated) == [migrated.database]


def test_a_swap_cut_short_between_its_renames_by_an_older_tool_is_undone(migrated):
    """Only the old database, under its retired name (what the tooling before the one-transaction
    swap could leave): the next task renames it back instead of creating an empty live database."""
    retired = f"{migrated.database}__replaced"
    before = notes(migrated)
    migrated.sql(f'ALTER DATABASE "{migrated.database}" RENAME TO "{retired}"', "postgres")
    status = migrated.invoke("status", check=True)
    assert f"renamed it back to {migrated.database}" in status.stdout
    assert databases(migrated) == [migrated.database]
    assert notes(migrated) == before
