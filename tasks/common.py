"""What every task needs: the tooling's settings, a backend, and one way to fail.

Imports of the tooling happen inside functions, so `invoke --list` stays fast.
"""
from __future__ import annotations

import functools
import os
import signal
import sys
import time
from pathlib import Path

from invoke import Exit

PROJECT_DIR = Path(__file__).resolve().parent.parent

CONFIG_DEFAULTS = {
    "backend": "auto",
    "database": "mole",
    "data_dir": ".mole",
    "backups_dir": "db_backups",
    "compose_file": "compose/docker-compose.yml",
    "compose_user": "mole",
    "url": "",
    # How long pg_dump waits for a table lock (a running migration holds them) before failing.
    "lock_wait_timeout": "60s",
}

EXIT_ERROR = 2

BACKEND_HELP = "Where to run: auto (Compose if its stack runs, else local), local, compose or url."


def settings_of(c):
    """The tooling's settings from invoke's configuration."""
    from tooling.settings import Settings

    return Settings.from_config(PROJECT_DIR, c.config.mole)


def runner_of(c):
    """A process runner honouring invoke's --dry and --echo."""
    from tooling.process import ProcessRunner

    return ProcessRunner(dry=bool(c.config.run.dry), echo=bool(c.config.run.echo))


def backend_of(c, backend: str | None = None, *, ready: bool = True):
    """The chosen backend; with `ready`, its server reachable and the live database present."""
    from tooling.server.backends import select_backend

    chosen = select_backend(settings_of(c), runner_of(c), backend)
    if ready:
        for repaired in chosen.ensure_ready():
            print(f"note: {repaired}", file=sys.stderr)
        clear_debris(c, chosen)
    return chosen


def clear_debris(c, backend=None):
    """Remove what killed runs left (on the server too, given a ready `backend`), saying so in one
    line; returns the `Cleanup`, for the tasks that list what was found."""
    from tooling.debris import clean

    cleanup = clean(settings_of(c), backend, dry=bool(c.config.run.dry))
    summary = cleanup.summary()
    if summary:
        print(f"note: {summary}", file=sys.stderr)
    return cleanup


def reports_errors(body):
    """Turn the tooling's errors into one clear line and exit status 2."""

    @functools.wraps(body)
    def task_body(*args, **kwargs):
        from tooling.errors import ToolingError

        interrupt_on_termination()
        try:
            return body(*args, **kwargs)
        except ToolingError as error:
            kept = f" (kept the scratch database {error.kept_database})" if error.kept_database else ""
            raise Exit(f"error: {error}{kept}", code=EXIT_ERROR) from error
        except KeyboardInterrupt:
            raise Exit("interrupted", code=130) from None

    return task_body


def required(value, option: str, task: str):
    """`value`, given for `option` (`--db FILE`) of `task`; a missing one is bad input, refused in one
    line with exit status 2 (invoke's own message for a missing argument exits 1)."""
    if not value:  # an empty value (`--db ''`) names nothing either
        raise Exit(f"error: {option} is required (invoke {task} --help)", code=EXIT_ERROR)
    return value


def refuses_dry(body):
    """For tasks whose steps depend on what earlier steps find (a loaded dump, a restored copy):
    `--dry` could print none of them truthfully, so it is refused in one line. Dry runs are for
    up, down, makemigrations, migrate, backup, restore, prune-backups and open, which print the
    exact commands they would run."""

    @functools.wraps(body)
    def task_body(c, *args, **kwargs):
        if c.config.run.dry:
            raise Exit(f"error: --dry is not supported here: `invoke {body.__name__.replace('_', '-')}` "
                       "runs steps that depend on what earlier ones find", code=EXIT_ERROR)
        return body(c, *args, **kwargs)

    return task_body


def interrupt_on_termination() -> None:
    """SIGTERM and SIGHUP stop a task as Ctrl-C does, so that its clean-up runs (scratch
    databases, the load role, partial files)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, interrupt)
    # A shell without job control starts background jobs with SIGINT ignored; `kill -INT`
    # (Ctrl-C's signal) must still stop a task, with its clean-up.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def terminal_progress(what: str):
    """A progress callback printing `bytes read of total` on a terminal; None in CI or a pipe."""
    if os.environ.get("CI") or not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and done < total:
            return
        last[0] = now
        percent = f" ({100 * done // total}%)" if total else ""
        end = "\n" if done >= total else ""
        print(f"\r{what}: {done / 2**20:.1f} of {total / 2**20:.1f} MiB{percent}", end=end,
              file=sys.stderr, flush=True)

    return show


def show_skipped(problems: list[str]) -> None:
    """Backups or bundles left out of a listing, one `note:` line each (on stderr)."""
    for problem in problems:
        print(f"note: left out: {problem}", file=sys.stderr)
