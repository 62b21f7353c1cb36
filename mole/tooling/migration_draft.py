"""Turn the differences between a legacy schema and the reference into a custom migration draft.

Each difference becomes one reversible SQL step. The order matters, the way it
does in Django's autodetector:
- renames come first, so that every later step uses today's names;
- extra constraints and indexes go before anything they could block;
- extra tables and columns that hold data are moved into the `legacy` schema,
  never dropped, so nothing is lost;
- columns are added and converted before NOT NULL is set on them;
- constraints are added last (foreign keys after the keys they reference), and
  names are aligned once the structure is right.
Steps whose success depends on the data carry a REVIEW note with the numbers
that matter, measured on the legacy database.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any
from typing import Callable

from dbtools.alignment_step import Step
from dbtools.legacy_schema import LEGACY_SCHEMA
from dbtools.rename_candidates import RenameCandidate
from dbtools.rename_candidates import find_renames
from dbtools.schema_diff import CONSTRAINT_KINDS
from dbtools.schema_diff import Difference
from dbtools.schema_diff import compare
from dbtools.schema_diff import compare_names

from .names import quote_sql_identifier as q

FILL_PLACEHOLDER = "NULL /* REVIEW: the value for rows that have none */"
Count = Callable[[str], int]
FOREIGN_KEY = re.compile(
    r"^FOREIGN KEY \((?P<columns>[^)]*)\) REFERENCES (?P<table>[^(]+)\((?P<refs>[^)]*)\)"
)


def with_renames(actual: dict[str, Any], renames: list[RenameCandidate]) -> dict[str, Any]:
    """The legacy snapshot as it will look once the proposed renames ran."""
    result = copy.deepcopy(actual)
    tables = result["tables"]
    for rename in renames:
        if rename.kind == "table":
            tables[rename.new] = tables.pop(rename.old)
            rewrite_definitions(tables, rf"REFERENCES {re.escape(rename.old)}\(", f"REFERENCES {rename.new}(")
        else:
            table = tables[rename.table]
            table["columns"][rename.new] = table["columns"].pop(rename.old)
            word = rf'(?<![\w"])"?{re.escape(rename.old)}"?(?![\w"])'
            for item in table["constraints"] + table["indexes"]:
                item["definition"] = re.sub(word, rename.new, item["definition"])
                item["columns"] = [rename.new if c == rename.old else c for c in item["columns"]]
    return result


def rewrite_definitions(tables: dict[str, Any], pattern: str, replacement: str) -> None:
    for table in tables.values():
        for item in table["constraints"]:
            item["definition"] = re.sub(pattern, replacement, item["definition"])


class AlignmentPlanner:
    """Plans the steps; `count(sql)` runs a counting query on the legacy database."""

    def __init__(self, expected: dict[str, Any], actual: dict[str, Any], count: Count) -> None:
        self.expected = expected["tables"]
        self.actual = actual["tables"]
        self.count = count
        self.renames = find_renames(expected, actual, compare(expected, actual))
        self.aligned = with_renames(actual, self.renames)
        self.differences = compare(expected, self.aligned)
        self.name_differences = compare_names(expected, self.aligned)
        self.original_table = {r.new: r.old for r in self.renames if r.kind == "table"}
        self.original_column = {(r.table, r.new): r.old for r in self.renames if r.kind == "column"}

    def of_kind(self, *kinds: str) -> list[Difference]:
        return [d for d in self.differences if d.kind in kinds]

    def legacy_name(self, table: str, column: str | None = None) -> str:
        """How the legacy database (where the counts run) names a table or column."""
        if column is None:
            return q(self.original_table.get(table, table))
        return q(self.original_column.get((table, column), column))

    def plan(self) -> list[Step]:
        steps = [self.rename(r) for r in self.renames if r.kind == "table"]
        steps += [self.rename(r) for r in self.renames if r.kind == "column"]
        extra_constraints = self.of_kind(*(f"{kind}_extra" for kind in CONSTRAINT_KINDS.values()))
        extra_constraints.sort(key=lambda d: d.kind != "foreign_key_extra")
        steps += [self.drop_constraint(d) for d in extra_constraints]
        steps += [self.drop_index(d) for d in self.of_kind("index_extra")]
        steps += [self.move_table(d) for d in self.of_kind("table_extra")]
        steps += [self.move_column(d) for d in self.of_kind("column_extra")]
        steps += [self.create_table(d) for d in self.of_kind("table_missing")]
        steps += [self.add_column(d) for d in self.of_kind("column_missing")]
        steps += [self.change_type(d) for d in self.of_kind("column_type")]
        identity_columns = {(d.table, d.object) for d in self.of_kind("column_identity")}
        steps += [self.change_identity(d) for d in self.of_kind("column_identity")]
        steps += [
            self.change_default(d)
            for d in self.of_kind("column_default")
            if (d.table, d.object) not in identity_columns
        ]
        steps += [self.change_nullability(d) for d in self.of_kind("column_nullability")]
        steps += [self.review_generated(d) for d in self.of_kind("column_generated")]
        missing = self.of_kind(*(f"{kind}_missing" for kind in CONSTRAINT_KINDS.values()))
        created = {d.table for d in self.of_kind("table_missing")}
        missing += [
            constraint_difference(t, c)
            for t in sorted(created)
            for c in self.expected[t]["constraints"]
            if c["type"] == "f"
        ]
        missing.sort(key=lambda d: d.kind == "foreign_key_missing")
        steps += [self.add_index(d) for d in self.of_kind("index_missing")]
        steps += [self.add_constraint(d) for d in missing]
        steps += [self.rename_object(d) for d in self.name_differences]
        return steps

    def rename(self, rename: RenameCandidate) -> Step:
        if rename.kind == "table":
            return Step(
                f"Rename table {rename.old} to {rename.new} (same columns)",
                f"ALTER TABLE {q(rename.old)} RENAME TO {q(rename.new)}",
                f"ALTER TABLE {q(rename.new)} RENAME TO {q(rename.old)}",
            )
        return Step(
            f"Rename column {rename.table}.{rename.old} to {rename.new} (same type)",
            f"ALTER TABLE {q(rename.table)} RENAME COLUMN {q(rename.old)} TO {q(rename.new)}",
            f"ALTER TABLE {q(rename.table)} RENAME COLUMN {q(rename.new)} TO {q(rename.old)}",
        )

    def drop_constraint(self, difference: Difference) -> Step:
        table, name = difference.table, difference.actual
        return Step(
            f"Drop {difference.kind.removesuffix('_extra').replace('_', ' ')} {name} on {table} "
            f"(not in today's schema): {difference.object}",
            f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}",
            f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {difference.object}",
        )

    def drop_index(self, difference: Difference) -> Step:
        return Step(
            f"Drop index {difference.actual} on {difference.table} (not in today's schema)",
            f"DROP INDEX {q(difference.actual)}",
            create_index(difference.table, difference.actual, difference.object),
        )

    def move_table(self, difference: Difference) -> Step:
        table = difference.table
        rows = self.count(f"SELECT count(*) FROM {self.legacy_name(table)}")
        return Step(
            f"Move table {table} ({rows} rows) into the {LEGACY_SCHEMA} schema: not in today's models",
            f"CREATE SCHEMA IF NOT EXISTS {LEGACY_SCHEMA}; ALTER TABLE {q(table)} SET SCHEMA {LEGACY_SCHEMA}",
            f"ALTER TABLE {LEGACY_SCHEMA}.{q(table)} SET SCHEMA public",
            review=(
                f"{table} holds {rows} rows; they are kept in {LEGACY_SCHEMA}.{table}, outside Mole's schema"
                if rows
                else ""
            ),
        )

    def move_column(self, difference: Difference) -> Step:
        table, column = difference.table, difference.object
        props = self.aligned["tables"][table]["columns"][column]
        values = self.count(f"SELECT count({self.legacy_name(table, column)}) FROM {self.legacy_name(table)}")
        restore_null = (
            "" if props["nullable"] else f"; ALTER TABLE {q(table)} ALTER COLUMN {q(column)} SET NOT NULL"
        )
        add_back = f"ALTER TABLE {q(table)} ADD COLUMN {q(column)} {props['type']}"
        if not values:
            return Step(
                f"Drop column {table}.{column}: not in today's models, and it holds no values",
                f"ALTER TABLE {q(table)} DROP COLUMN {q(column)}",
                add_back + restore_null,
            )
        key = primary_key_columns(self.aligned["tables"][table])
        kept = q(f"{table}__{column}"[:63])
        key_list = ", ".join(q(c) for c in key)
        match = " AND ".join(f"t.{q(c)} = k.{q(c)}" for c in key)
        forward = (
            f"CREATE SCHEMA IF NOT EXISTS {LEGACY_SCHEMA}; "
            f"CREATE TABLE {LEGACY_SCHEMA}.{kept} AS SELECT {key_list}, {q(column)} FROM {q(table)}; "
            f"ALTER TABLE {LEGACY_SCHEMA}.{kept} ADD PRIMARY KEY ({key_list}); "
            f"ALTER TABLE {q(table)} DROP COLUMN {q(column)}"
        )
        reverse = (
            f"{add_back}; UPDATE {q(table)} AS t SET {q(column)} = k.{q(column)} "
            f"FROM {LEGACY_SCHEMA}.{kept} AS k WHERE {match}{restore_null}; DROP TABLE {LEGACY_SCHEMA}.{kept}"
        )
        return Step(
            f"Move column {table}.{column} ({values} values) into {LEGACY_SCHEMA}.{kept}: "
            "not in today's models",
            forward,
            reverse,
            review=f"{values} non-NULL values in {table}.{column} are kept in {LEGACY_SCHEMA}.{kept}, "
            f"keyed by {', '.join(key)}",
        )

    def create_table(self, difference: Difference) -> Step:
        table = difference.table
        spec = self.expected[table]
        columns = sorted(spec["columns"].items(), key=lambda item: item[1]["position"])
        parts = [column_definition(name, props) for name, props in columns]
        statements = [f"CREATE TABLE {q(table)} ({', '.join(parts)})"]
        statements += [
            f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(c['name'])} {c['definition']}"
            for c in spec["constraints"]
            if c["type"] != "f"
        ]
        statements += [create_index(table, index["name"], index["definition"]) for index in spec["indexes"]]
        return Step(f"Create table {table} (missing)", "; ".join(statements), f"DROP TABLE {q(table)}")

    def add_column(self, difference: Difference) -> Step:
        table, column = difference.table, difference.object
        props = self.expected[table]["columns"][column]
        forward = (
            f"ALTER TABLE {q(table)} ADD COLUMN {column_definition(column, {**props, 'nullable': True})}"
        )
        review = ""
        if not props["nullable"]:
            rows = 0
            if not props["default"] and not props["identity"]:
                rows = self.count(f"SELECT count(*) FROM {self.legacy_name(table)}")
            if rows:
                forward += f"; UPDATE {q(table)} SET {q(column)} = {FILL_PLACEHOLDER}"
                review = (
                    f"{table} has {rows} rows and the new NOT NULL column {column} has no default: "
                    "replace the NULL marked REVIEW in the SQL with the value they should get"
                )
            forward += f"; ALTER TABLE {q(table)} ALTER COLUMN {q(column)} SET NOT NULL"
        return Step(
            f"Add column {table}.{column} {props['type']} (missing)",
            forward,
            f"ALTER TABLE {q(table)} DROP COLUMN {q(column)}",
            review,
        )

    def change_type(self, difference: Difference) -> Step:
        table, column = difference.table, difference.object
        want, have = difference.expected, difference.actual
        invalid = self.count(
            f"SELECT count(*) FROM {self.legacy_name(table)} "
            f"WHERE {self.legacy_name(table, column)} IS NOT NULL "
            f"AND NOT pg_input_is_valid({self.legacy_name(table, column)}::text, '{want}')"
        )
        review = (
            f"{invalid} values of {table}.{column} cannot be converted to {want}: fix them or "
            "write a USING expression"
            if invalid
            else ""
        )
        return Step(
            f"Change {table}.{column} from {have} to {want}",
            f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} TYPE {want} USING {q(column)}::{want}",
            f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} TYPE {have} USING {q(column)}::{have}",
            review,
        )

    def change_identity(self, difference: Difference) -> Step:
        table, column = difference.table, difference.object
        if difference.expected and not difference.actual:
            return Step(
                f"Make {table}.{column} an identity column (it is a serial)",
                serial_to_identity(table, column),
                identity_to_serial(table, column),
            )
        return Step(
            f"Make {table}.{column} a serial (it is an identity column)",
            identity_to_serial(table, column),
            serial_to_identity(table, column),
        )

    def change_default(self, difference: Difference) -> Step:
        table, column = difference.table, difference.object

        def set_default(value):
            action = f"SET DEFAULT {value}" if value is not None else "DROP DEFAULT"
            return f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} {action}"

        return Step(
            f"Change the default of {table}.{column} to {difference.expected}",
            set_default(difference.expected),
            set_default(difference.actual),
        )

    def change_nullability(self, difference: Difference) -> Step:
        table, column = difference.table, difference.object
        alter = f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)}"
        if difference.expected:
            return Step(
                f"Allow NULL in {table}.{column}", f"{alter} DROP NOT NULL", f"{alter} SET NOT NULL"
            )
        nulls = self.count(
            f"SELECT count(*) FROM {self.legacy_name(table)} WHERE {self.legacy_name(table, column)} IS NULL"
        )
        forward, review = f"{alter} SET NOT NULL", ""
        if nulls:
            forward = (
                f"UPDATE {q(table)} SET {q(column)} = {FILL_PLACEHOLDER} WHERE {q(column)} IS NULL; "
                + forward
            )
            review = (
                f"{nulls} rows of {table} have NULL in {column}: replace the NULL marked REVIEW "
                "in the SQL with the value they should get before SET NOT NULL"
            )
        return Step(f"Forbid NULL in {table}.{column}", forward, f"{alter} DROP NOT NULL", review)

    def review_generated(self, difference: Difference) -> Step:
        message = f"{difference.table}.{difference.object}: generated column differs; write this step by hand"
        quoted = message.replace("'", "''").replace("$", "")
        fail = f"DO $$ BEGIN RAISE EXCEPTION '{quoted}'; END $$"
        return Step(message, fail, "SELECT 1", review=message)

    def add_index(self, difference: Difference) -> Step:
        name = difference.expected
        return Step(
            f"Create index {name} on {difference.table} (missing)",
            create_index(difference.table, name, difference.object),
            f"DROP INDEX {q(name)}",
        )

    def add_constraint(self, difference: Difference) -> Step:
        table, name, definition = difference.table, difference.expected, difference.object
        violations = self.violations(table, definition)
        review = (
            f"{violations} rows of {table} violate {definition}: fix them before this step"
            if violations
            else ""
        )
        return Step(
            f"Add {difference.kind.removesuffix('_missing').replace('_', ' ')} {name} on {table} (missing)",
            f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}",
            f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}",
            review,
        )

    def violations(self, table: str, definition: str) -> int:
        """Rows the new constraint would reject, counted on the legacy data (0 for a table created here)."""
        if table in {d.table for d in self.of_kind("table_missing")}:
            return 0
        source = self.legacy_name(table)
        if definition.startswith(("UNIQUE (", "PRIMARY KEY (")):
            columns = definition.split("(", 1)[1].rsplit(")", 1)[0]
            legacy_columns = ", ".join(
                self.legacy_name(table, c.strip().strip('"')) for c in columns.split(",")
            )
            return self.count(
                f"SELECT count(*) FROM (SELECT 1 FROM {source} GROUP BY {legacy_columns} "
                "HAVING count(*) > 1) AS duplicates"
            )
        if definition.startswith("CHECK ("):
            return self.count(f"SELECT count(*) FROM {source} WHERE NOT {definition.removeprefix('CHECK ')}")
        match = FOREIGN_KEY.match(definition)
        if match and "," not in match["columns"]:
            column = self.legacy_name(table, match["columns"].strip('"'))
            referenced = self.legacy_name(match["table"].strip('"'))
            return self.count(
                f"SELECT count(*) FROM {source} AS t WHERE t.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {referenced} AS r WHERE r.{q(match['refs'].strip())} = t.{column})"
            )
        return 0

    def rename_object(self, difference: Difference) -> Step:
        table, want, have = difference.table, difference.expected, difference.actual
        if difference.kind == "index_name":
            forward = f"ALTER INDEX {q(have)} RENAME TO {q(want)}"
            reverse = f"ALTER INDEX {q(want)} RENAME TO {q(have)}"
        else:
            forward = f"ALTER TABLE {q(table)} RENAME CONSTRAINT {q(have)} TO {q(want)}"
            reverse = f"ALTER TABLE {q(table)} RENAME CONSTRAINT {q(want)} TO {q(have)}"
        return Step(
            f"Rename {have} to {want} on {table} (named by another Django version)", forward, reverse
        )


def constraint_difference(table: str, constraint: dict[str, Any]) -> Difference:
    kind = CONSTRAINT_KINDS.get(constraint["type"], "constraint")
    return Difference(f"{kind}_missing", table, constraint["definition"], expected=constraint["name"])


def primary_key_columns(table: dict[str, Any]) -> list[str]:
    primary = next((c for c in table["constraints"] if c["type"] == "p"), None)
    return primary["columns"] if primary else ["ctid"]


def column_definition(name: str, props: dict[str, Any]) -> str:
    text = f"{q(name)} {props['type']}"
    if props["identity"]:
        text += f" GENERATED {props['identity'].upper()} AS IDENTITY"
    elif props["default"] and props["default"] != "nextval(<sequence>)":
        text += f" DEFAULT {props['default']}"
    if not props["nullable"]:
        text += " NOT NULL"
    return text


def create_index(table: str, name: str, definition: str) -> str:
    unique, body = (
        ("UNIQUE ", definition.removeprefix("UNIQUE "))
        if definition.startswith("UNIQUE ")
        else ("", definition)
    )
    return f"CREATE {unique}INDEX {q(name)} ON {q(table)} {body}"


def serial_to_identity(table: str, column: str) -> str:
    regclass = f"public.{q(table)}".replace("'", "''")
    return (
        "DO $$ DECLARE owned text := pg_get_serial_sequence('" + regclass + f"', '{column}'); BEGIN "
        f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} DROP DEFAULT; "
        "IF owned IS NOT NULL THEN EXECUTE 'DROP SEQUENCE ' || owned; END IF; "
        f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} ADD GENERATED BY DEFAULT AS IDENTITY; "
        "PERFORM setval(pg_get_serial_sequence('" + regclass + f"', '{column}'), "
        f"COALESCE((SELECT max({q(column)}) FROM {q(table)}), 0) + 1, false); END $$"
    )


def identity_to_serial(table: str, column: str) -> str:
    sequence = q(f"{table}_{column}_seq"[:63])
    return (
        f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} DROP IDENTITY; "
        f"CREATE SEQUENCE {sequence} OWNED BY {q(table)}.{q(column)}; "
        f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} SET DEFAULT nextval('{sequence}'); "
        f"SELECT setval('{sequence}', COALESCE((SELECT max({q(column)}) FROM {q(table)}), 0) + 1, false)"
    )


def render_migration(
    *, fingerprint: str, parent: str, steps: list[Step], source: str, lineage: str
) -> str:
    """The draft's Python source: readable, with REVIEW notes where a person must decide."""
    app, parent_name = parent.split(".", 1)
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    reviews = [step for step in steps if step.review]
    lines = [
        f'"""Align one legacy schema (fingerprint {fingerprint}) to {parent}.',
        "",
        f"Drafted by Mole's legacy tooling on {today} from {plain_text(source, docstring=True)}",
        f"(lineage: {lineage}).",
        f"{len(steps)} steps, {len(reviews)} marked REVIEW. Read every step, change what a REVIEW",
        "note asks, then set REVIEWED = True. Until then this migration refuses to run on the",
        "legacy database; on every other database it does nothing.",
        '"""',
        "from django.db import migrations",
        "",
        "from dbtools.legacy_alignment import AlignLegacySchema",
        "from dbtools.legacy_alignment import Step",
        "",
        f'LEGACY_FINGERPRINT = "{fingerprint}"',
        "REVIEWED = False",
        "",
        "STEPS = [",
    ]
    for step in steps:
        if step.review:
            lines.append(f"    # REVIEW: {plain_text(step.review)}")
        lines += [
            "    Step(",
            f"        {step.description!r},",
            f"        forward={python_string(step.forward)},",
            f"        reverse={python_string(step.reverse)},",
        ]
        if step.review:
            lines.append(f"        review={step.review!r},")
        lines.append("    ),")
    lines += [
        "]",
        "",
        "",
        "class Migration(migrations.Migration):",
        f'    dependencies = [("{app}", "{parent_name}")]',
        "",
        "    operations = [",
        "        AlignLegacySchema(",
        "            fingerprint=LEGACY_FINGERPRINT,",
        "            steps=STEPS,",
        "            reviewed=REVIEWED,",
        '            name=__name__.rsplit(".", 1)[-1],',
        "        ),",
        "    ]",
        "",
    ]
    return "\n".join(lines)


def plain_text(text: str, *, docstring: bool = False) -> str:
    """Names from the dump on one line (a newline would end a comment and start code);
    in a docstring, without quotes or backslashes either."""
    unsafe = '"\\' if docstring else ""
    return "".join(ch if ch.isprintable() and ch not in unsafe else "?" for ch in text)


def python_string(sql: str) -> str:
    """SQL as a Python literal a person can edit: quotes of both kinds stay as they are."""
    if "'''" in sql or "\\" in sql or sql.endswith("'"):
        return repr(sql)
    return f"'''{sql}'''"


def next_migration_path(migrations_dir: Path, name: str) -> Path:
    numbers = [int(path.name[:4]) for path in migrations_dir.glob("[0-9][0-9][0-9][0-9]_*.py")]
    return migrations_dir / f"{max(numbers, default=0) + 1:04d}_{name}.py"
