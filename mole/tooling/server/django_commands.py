"""The `manage.py migrate` command lines the tooling runs, built in one place.

Django's `migrate` reference: `migrate [app_label] [migration_name] --fake --plan --no-input`;
`-v 0` keeps a captured run quiet (its errors still reach stderr).
"""

from __future__ import annotations

from tooling.process import Completed
from tooling.server.backends import Backend


def migrate_args(
    target: str | None = None, *, app: str | None = None, fake: bool = False, plan: bool = False,
    quiet: bool = False,
) -> list[str]:
    """`migrate` arguments: to `target` (`app.migration`, or a migration name of `app`), or all
    apps to their heads."""
    args = ["migrate", "--no-input"]
    if target and "." in target:
        app, target = target.split(".", 1)
    args += [part for part in (app, target) if part]
    if fake:
        args.append("--fake")
    if plan:
        args.append("--plan")
    if quiet:
        args += ["-v", "0"]
    return args


def migrate(backend: Backend, database: str, target: str | None = None, *, fake: bool = False) -> Completed:
    """Run `migrate` quietly on `database`, to `target` (`app.migration`) or to every head.
    Raises CommandFailed with Django's last lines when it fails."""
    return backend.manage(migrate_args(target, fake=fake, quiet=True), database=database, capture=True)
