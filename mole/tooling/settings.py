"""The tooling's settings, read once from invoke's `mole` configuration.

Defaults are declared once, in the tasks' `ns.configure`; `invoke.yaml` and
`INVOKE_MOLE_*` environment variables override them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Mapping

BACKENDS = ("auto", "local", "compose", "url")

@dataclass(frozen=True)
class Settings:
    """The tooling's settings: invoke's configuration (`mole.*`), paths made absolute."""

    project_dir: Path
    backend: str
    database: str
    data_dir: Path
    backups_dir: Path
    compose_file: Path
    compose_user: str
    url: str
    lock_wait_timeout: str

    @classmethod
    def from_config(cls, project_dir: Path, config: Mapping[str, Any]) -> Settings:
        """Settings from invoke's `mole` configuration, paths relative to `project_dir`."""
        values = dict(config)

        def path(key: str) -> Path:
            return (project_dir / str(values[key])).resolve()

        return cls(
            project_dir=project_dir,
            backend=str(values["backend"]),
            database=str(values["database"]),
            data_dir=path("data_dir"),
            backups_dir=path("backups_dir"),
            compose_file=path("compose_file"),
            compose_user=str(values["compose_user"]),
            url=str(values["url"]),
            lock_wait_timeout=str(values["lock_wait_timeout"]),
        )

    @property
    def django_dir(self) -> Path:
        """The Django project folder (`mole/`), where manage.py runs."""
        return self.project_dir / "mole"

    @property
    def migrations_dir(self) -> Path:
        """data_collection's migrations folder."""
        return self.django_dir / "data_collection" / "migrations"

    @property
    def cache_dir(self) -> Path:
        """Where the reference schema and lineage caches live."""
        return self.data_dir / "cache"
