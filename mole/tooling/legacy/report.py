"""REPORT.md of a legacy bundle: what differed, what was done, what was verified, for a person."""

from __future__ import annotations

from typing import Any

from schema.django_drift import plural_of


def load_lines(load: dict[str, Any]) -> list[str]:
    """The load, as the README's "What a dump can and cannot do" describes it."""
    lines = ["Loaded as a role that owned only the scratch database, in psql's restricted mode."]
    if load.get("source_encoding"):
        lines.append(f"Text was converted from {load['source_encoding']} (--source-encoding) to UTF-8.")
    if load.get("extensions_created"):
        lines.append(f"Extensions created by the tooling: {', '.join(load['extensions_created'])}.")
    left_out = load.get("left_out") or {}
    if left_out:
        lines += ["", "Left out of the dump (they belong to the server it came from):", ""]
        lines += [f"- {reason}: {count}" for reason, count in left_out.items()]
    return lines


def render_report(manifest: dict[str, Any], outcome) -> str:
    """REPORT.md of a bundle, from its manifest and the run's outcome."""
    lineage = outcome.lineage
    verification = manifest["verification"]
    data = manifest["data"]
    lines = [
        f"# Legacy bundle {manifest['name']}",
        "",
        f"- Original: `original/{manifest['source']['file']}` ({manifest['source']['format']}, "
        f"{manifest['source']['size_bytes']} bytes)",
        f"- Migrated database: `{manifest['migrated_dump']['file']}` "
        f"({manifest['migrated_dump']['format']}), at {manifest['migration_head']}",
        f"- Made {manifest['created_utc']} with PostgreSQL {manifest['versions']['server']}, "
        f"Django {manifest['versions']['django']}, backend {manifest['backend']}",
        "",
        "## How it was loaded",
        "",
        *load_lines(manifest["load"]),
        "",
        "## What differed",
        "",
        f"Schema fingerprint {lineage.fingerprint}: {lineage.describe()}.",
        "",
        "## What was done",
        "",
    ]
    if outcome.conversion:
        lines += [
            "The database was made by an older Django than ours. Before any migration ran, what "
            "Django itself changed since was converted, in one transaction (`conversion/forward.sql`; "
            "`conversion/reverse.sql` undoes it):",
            "",
            *[f"- {line}" for line in outcome.conversion.lines()],
            "",
        ]
    if manifest["custom_migration"]:
        lines.append(
            f"Applied the custom migration `{manifest['custom_migration']}` (copied under "
            f"`migration/`): it aligned the schema to {manifest['started_from']}, then every later "
            "migration ran."
        )
    else:
        lines.append(
            f"No custom migration was needed: migrations up to {manifest['started_from']} were "
            "recorded as applied, and the later ones ran."
        )
    if manifest.get("recorded_without_history") is not None:
        lines += ["", "The dump had no `django_migrations`: Mole's apps were recorded up to that point, "
                  "and at today's heads the other apps whose tables it has: "
                  f"{', '.join(manifest['recorded_without_history']) or 'none'}."]
    rewrite = manifest.get("history_rewritten")
    if rewrite and (rewrite["removed"] or rewrite["added"]):
        lines += ["", "The dump's `django_migrations` did not fit its schema and was rewritten from the "
                  f"lineage: removed {', '.join(rewrite['removed']) or 'nothing'}; recorded "
                  f"{', '.join(rewrite['added']) or 'nothing'}."]
    if manifest.get("data_fixes"):
        lines += ["", "Reviewed data fixes ran right before the migrations whose rules old rows broke "
                  "(copied under `migration/`; every value they replaced is kept in the `legacy` schema): "
                  + ", ".join(f"`{fix}`" for fix in manifest["data_fixes"]) + "."]
    if manifest.get("sequences_set_past_max"):
        lines += ["", "Sequences set past their column's max (each `setval` to the max, so the next "
                  "insert gets max + 1):", ""]
        lines += [f"- {item}" for item in manifest["sequences_set_past_max"]]
    lines += ["", "## What was verified", ""]
    for name, check in verification["checks"].items():
        mark = "passed" if check["ok"] else "FAILED"
        lines.append(f"- {name}: {mark} ({check['summary']})")
        lines += [f"  - {problem}" for problem in check["problems"]]
    lines += [
        "",
        "## Data",
        "",
        f"{data['kept_rows']} rows of the original are in the migrated database. Every value of a table "
        "with a primary key was hashed (a 64-bit digest of its text) and bound to its row's key. A table "
        "whose row count and, in every original column, number of values and sum of those digests are "
        "the same after the migration is proven whole by them; in any other table each original row was "
        "looked up by its key and each of its non-NULL values compared wherever its column went."
        + (f" {len(data['unwritten'])} {plural_of(len(data['unwritten']), 'table')} the migrations wrote no "
           "row into kept their sums without being read again: every row older than a boundary taken "
           "just before the digests (by PostgreSQL's xmin), the same row count, the same relation, "
           "key and columns, none of them inherited or of a type whose text can change in place."
           if data.get("unwritten") else "")
        + (" What was not compared row by row, and why, is listed below." if data.get("unproven") else ""),
    ]
    for title, key in (
        ("Moved or renamed", "moved"),
        ("Converted to a new type", "converted"),
        ("Grown (rows added by migrations)", "grown"),
        ("Filled (NULLs given values by migrations)", "filled"),
        ("Dropped (allowed)", "losses"),
        ("Not compared row by row", "unproven"),
    ):
        if data.get(key):
            lines += ["", f"{title}:", ""] + [f"- {item}" for item in data[key]]
    lines += ["", "| table | rows before | rows after |", "|---|---:|---:|"]
    before, after = manifest["row_counts"]["before"], manifest["row_counts"]["after"]
    for table in sorted(set(before) | set(after)):
        lines.append(f"| {table} | {before.get(table, '-')} | {after.get(table, '-')} |")
    return "\n".join(lines) + "\n"
