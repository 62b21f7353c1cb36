"""The custom (legacy) migrations already written, found by the fingerprint each declares.

Read with `ast`, never imported: the host side of the tooling does not load Django.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .errors import MigrationNotFound
from .errors import ToolingError

APP = "data_collection"


@dataclass(frozen=True)
class CustomMigration:
    name: str
    path: Path
    fingerprint: str
    reviewed: bool
    parent: str  # `data_collection.0010_x`

    @property
    def label(self) -> str:
        return f"{APP}.{self.name}"


def read_custom_migration(path: Path) -> CustomMigration | None:
    """The migration's declarations, or None when it is not a custom legacy migration."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as error:
        raise ToolingError(f"{path.name} is not valid Python: {error.msg} (line {error.lineno})") from error
    values = {}
    parent = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target in ("LEGACY_FINGERPRINT", "REVIEWED"):
                values[target] = ast.literal_eval(node.value)
            elif target == "dependencies":
                for app, name in ast.literal_eval(node.value):
                    if app == APP:
                        parent = f"{APP}.{name}"
    if "LEGACY_FINGERPRINT" not in values or parent is None:
        return None
    return CustomMigration(
        path.stem, path, values["LEGACY_FINGERPRINT"], bool(values.get("REVIEWED")), parent
    )


def custom_migrations(migrations_dir: Path) -> list[CustomMigration]:
    found = []
    for path in sorted(migrations_dir.glob("[0-9][0-9][0-9][0-9]_*.py")):
        migration = read_custom_migration(path)
        if migration:
            found.append(migration)
    return found


def for_fingerprint(migrations_dir: Path, fingerprint: str) -> CustomMigration | None:
    matches = [m for m in custom_migrations(migrations_dir) if m.fingerprint == fingerprint]
    return matches[-1] if matches else None


def named(migrations_dir: Path, name: str) -> CustomMigration:
    """`--migration`: a name like `0011_legacy_x`, with or without `data_collection.` or `.py`."""
    stem = name.removeprefix(f"{APP}.").removesuffix(".py")
    if "/" in stem or stem.startswith("."):
        raise MigrationNotFound(f"{name!r} is not a migration name")
    path = migrations_dir / f"{stem}.py"
    if not path.is_file():
        raise MigrationNotFound(f"no migration {stem!r} in {migrations_dir}")
    migration = read_custom_migration(path)
    if migration is None:
        raise MigrationNotFound(
            f"{stem} is not a custom legacy migration (it declares no LEGACY_FINGERPRINT)"
        )
    return migration
