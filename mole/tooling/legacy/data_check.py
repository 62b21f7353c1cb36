"""Did a migration lose data? Compare the inventories taken before and after it.

Rows may be added (migrations add content types, permissions, defaults), never
removed. A column's values must still be somewhere: under the same name, or under
another name or in the `legacy` schema with the same checksum. A column whose type
changed is reported as converted; one whose NULLs a data migration filled, as filled.

The checksums are sums, so they only place tables and columns; where each original
row and value went is then proven row by row (row_proof.py), and `places` says
where to look: grown tables and filled columns are compared there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypedDict

from schema.django_drift import plural_of
from schema.model import Schema
from tooling.legacy.data_inventory import Inventory

JSON_TYPES = frozenset({"json", "jsonb"})


class Place(TypedDict):
    """Where an original table is after the migration: the table, each column's name there, the
    columns whose values must be unchanged, the new type of each converted column, and whether
    its rows and those columns have the same counts and sums there (the row proof's shortcut)."""

    table: str
    columns: dict[str, str]
    compare: list[str]
    converted: dict[str, str]
    same_sums: bool


@dataclass
class DataCheck:
    """What a migration did to the data: rows kept, losses, conversions, moves, added rows and
    filled NULLs, and where each original table and column is now (for the row proof)."""

    kept_rows: int = 0
    losses: list[str] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    grown: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    unproven: list[str] = field(default_factory=list)
    # Tables nothing wrote a row into during the migration: their inventory is the one from before.
    unwritten: list[str] = field(default_factory=list)
    # Losses the row proof will name by key, if it covers their table: {(table, column or None): message}
    suspects: dict[tuple[str, str | None], str] = field(default_factory=dict)
    # {"schema.table": {"table": its place after, "columns": {column: name there}, "compare": [columns],
    #                   "converted": {column: its new type}}}
    places: dict[str, Place] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (bundle manifests), without the working fields."""
        return {
            "kept_rows": self.kept_rows,
            "losses": self.losses,
            "converted": self.converted,
            "moved": self.moved,
            "grown": self.grown,
            "filled": self.filled,
            "unproven": self.unproven,
            "unwritten": self.unwritten,
        }


def columns_to_sum(before: Inventory, snapshots: dict[str, Schema]) -> dict[str, set[str]]:
    """Of the tables after the migration (`snapshots`: schema name to snapshot), those that still
    have every original column under its name, with those columns: what `check_data` reads of them
    unless something was lost (new columns need no sums then). Other tables are read in full."""
    present = {f"{schema}.{name}": set(table.columns) for schema, snapshot in snapshots.items()
               for name, table in snapshot.tables.items()}
    return {name: set(table["columns"]) for name, table in before.items()
            if set(table["columns"]) <= present.get(name, set())}


def find_table(name: str, before_table: dict, before: dict, after: dict) -> str | None:
    """The table's place after the migration: same name, moved to legacy, or renamed."""
    schema, table = name.split(".", 1)
    for candidate in (name, f"legacy.{table}"):
        if candidate in after:
            return candidate
    checksums = {c["checksum"] for c in before_table["columns"].values() if c["non_null"]}
    for candidate, data in after.items():
        if candidate in before or data["rows"] != before_table["rows"]:
            continue
        if checksums & {c["checksum"] for c in data["columns"].values()}:
            return candidate
    return None


def find_column(checksum: str, after: dict, preferred: str | None) -> str | None:
    """Where a column with `checksum` went: `table.column` after the migration, `preferred` table
    first; None when no column has those values."""
    places = [preferred] if preferred else []
    places += [name for name in after if name != preferred]
    for place in places:
        for column, data in after[place]["columns"].items():
            if data["checksum"] == checksum:
                return f"{place}.{column}"
    return None


def kept_in_legacy(checksum: str, after: dict, original: str) -> str | None:
    """`legacy.table.column` holding exactly a column's original values (a data fix's copy), if
    any: a table of the legacy schema that is not the original table moved there."""
    kept = {name: data for name, data in after.items()
            if name.startswith("legacy.") and name != f"legacy.{original.split('.', 1)[1]}"}
    return find_column(checksum, kept, None) if kept else None


def check_data(before: Inventory, after: Inventory) -> DataCheck:
    """Place every table and column of `before` in `after` and report what happened to them.

    Losses that the row proof can name by key (rows deleted, values changed or cleared)
    go to `suspects`; `settle` turns them into losses where no row proof covers them.
    """
    result = DataCheck()
    for name, table in sorted(before.items()):
        place = find_table(name, table, before, after)
        if place is None:
            if table["rows"]:
                result.losses.append(f"{name}: table dropped with its {table['rows']} rows")
            continue
        if place != name:
            result.moved.append(f"{name} -> {place}")
        rows_after = after[place]["rows"]
        result.kept_rows += min(rows_after, table["rows"])
        result.places[name] = {"table": place, "columns": {}, "compare": [], "converted": {},
                               "same_sums": False}
        grown = rows_after > table["rows"]
        if rows_after < table["rows"]:
            deleted = table["rows"] - rows_after
            result.suspects[(name, None)] = (f"{name}: {deleted} of {table['rows']} "
                                             f"{plural_of(table['rows'], 'row')} deleted")
        elif grown:
            # Sums over rows cannot match with rows added: the row proof compares the original ones.
            added = rows_after - table["rows"]
            result.grown.append(f"{name}: {added} {plural_of(added, 'row')} added; "
                                f"its {table['rows']} original rows compared by key")
        for column, data in table["columns"].items():
            check_column(result, name, place, column, data, after, sums_comparable=not grown,
                         nulls=table["rows"] - data["non_null"])
        result.places[name]["same_sums"] = rows_after == table["rows"] and all(
            counted_alike(table["columns"][column], after[place]["columns"][moved_to])
            for column, moved_to in result.places[name]["columns"].items()
            if column in result.places[name]["compare"]
        )
    return result


def counted_alike(before: dict, after: dict) -> bool:
    """Same number of values and the same sum of their digests (inventory columns)."""
    return (before["non_null"], before["checksum"]) == (after["non_null"], after["checksum"])


def check_column(
    result: DataCheck, name: str, place: str, column: str, data: dict, after: dict, *, sums_comparable: bool,
    nulls: int,
) -> None:
    """Place one column (recorded in `result.places`) and report what happened to it.

    A column still there under its name is that column: the row proof compares it by key
    (equal sums elsewhere are a coincidence of equal keys and values, not a move). Only a
    column gone from its table is looked for elsewhere by its checksum. `sums_comparable`
    is False when the table gained rows: its sums cannot match then. `nulls` is how many
    NULLs the column had.
    """
    place_of = result.places[name]
    same = after[place]["columns"].get(column)
    if same:
        place_of["columns"][column] = column
    if not data["non_null"]:
        return
    if same:
        place_of["compare"].append(column)
        kept = kept_in_legacy(data["checksum"], after, name) if same["checksum"] != data["checksum"] else None
        if kept:
            # A reviewed data fix replaced some values in place and kept every original aside.
            result.moved.append(f"{name}.{column}: values replaced in place by a data fix; "
                                f"every original value kept in {kept}")
            place_of["compare"].remove(column)
            if same["type"] != data["type"]:
                result.converted.append(f"{name}.{column}: {data['type']} -> {same['type']}")
        elif same["type"] != data["type"]:
            result.converted.append(f"{name}.{column}: {data['type']} -> {same['type']}")
            place_of["converted"][column] = same["type"]
        elif same["non_null"] > data["non_null"]:
            # A data migration gave values to NULLs (0006 does): the row proof compares the others.
            # Only NULLs the column had can have been filled; more values are the added rows'.
            filled = min(same["non_null"] - data["non_null"], nulls)
            if filled:
                fill_reported(result, name, column, filled, data["non_null"])
        elif same["non_null"] < data["non_null"]:
            cleared = data["non_null"] - same["non_null"]
            result.suspects[(name, column)] = (f"{name}.{column}: {cleared} of {data['non_null']} "
                                               "non-NULL values set to NULL")
        elif sums_comparable and same["checksum"] != data["checksum"]:
            result.suspects[(name, column)] = (f"{name}.{column}: values changed in some of its "
                                               f"{data['non_null']} non-NULL rows")
        return
    found = find_column(data["checksum"], after, place) if sums_comparable else None
    if found:
        result.moved.append(f"{name}.{column} -> {found}")
        where, _, moved_to = found.rpartition(".")
        if where == place:
            place_of["columns"][column] = moved_to
            place_of["compare"].append(column)
    else:
        result.losses.append(f"{name}.{column}: its {data['non_null']} non-NULL values were not found "
                             "together anywhere after the migration (the column was dropped, or moved "
                             "with values changed or missing)")


def fill_reported(result: DataCheck, name: str, column: str, filled: int, original: int) -> None:
    """Record that a migration gave values to NULLs of a column (0006 fills pose sources)."""
    result.filled.append(f"{name}.{column}: {filled} {plural_of(filled, 'NULL')} given values by a "
                         f"migration; its {original} original {plural_of(original, 'value')} compared by key")


def settle(result: DataCheck, differences: list[Any], compared: set[str]) -> None:
    """Fold the row proof into `result`: its differences (`RowDifference`s) are the losses of
    the tables it `compared`; elsewhere the suspects stand. A changed value in a column converted
    to JSON is the conversion's rewriting (spacing, key order), reported as converted."""
    for (table, column), message in sorted(result.suspects.items(), key=str):
        if table not in compared:
            result.losses.append(message)
    for difference in differences:
        converted = result.places[difference.table]["converted"].get(difference.column or "")
        if converted in JSON_TYPES:
            keys = ", ".join(difference.first_keys)
            result.converted.append(f"{difference.table}.{difference.column}: {difference.count} values "
                                    f"rewritten as {converted} (first keys: {keys})")
        else:
            result.losses.append(difference.describe())
    result.suspects.clear()
