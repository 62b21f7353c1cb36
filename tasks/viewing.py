"""Looking at an old experiment: open a bundle or a backup in Mole's web pages."""
from __future__ import annotations

from invoke import Exit
from invoke import task

from .backups import backup_store_of
from .common import BACKEND_HELP
from .common import backend_of
from .common import reports_errors
from .common import settings_of
from .legacy import bundle_store_of

__all__ = ["open_"]

DEFAULT_PORT = 8000


@task(
    name="open",
    help={
        "bundle": "Name of the legacy bundle to open (see `invoke bundles`).",
        "backup": "Or: name of a backup to open (see `invoke backups`).",
        "port": f"Port of the web server on 127.0.0.1 (default {DEFAULT_PORT}).",
        "drop_copy": "Instead of opening: drop the copy kept for the next open, and exit.",
        "backend": BACKEND_HELP,
    },
)
@reports_errors
def open_(c, bundle=None, backup=None, port=None, drop_copy=False, backend=None):
    """Browse a bundle or backup in Mole (a copy, never the live database) until Ctrl-C."""
    from tooling.opening.open_session import drop_copy as drop
    from tooling.opening.open_session import run_open
    from tooling.opening.opened_copy import backup_source
    from tooling.opening.opened_copy import bundle_source

    if bool(bundle) == bool(backup):
        raise Exit("error: give either --bundle or --backup", code=2)
    port = DEFAULT_PORT if port is None else port
    if not str(port).isdigit() or not 1 <= int(port) <= 65535:
        raise Exit(f"error: --port must be a number from 1 to 65535, not {port!r}", code=2)
    if drop_copy:
        kind, name = ("bundle", bundle) if bundle else ("backup", backup)
        dropped = drop(backend_of(c, backend), settings_of(c), kind, name)
        if not c.config.run.dry:
            print(f"Dropped {dropped}." if dropped else f"No copy of {kind} {name} to drop.")
        return
    if bundle:
        source = bundle_source(bundle_store_of(c).get(bundle))
    else:
        source = backup_source(backup_store_of(c).get(backup))
    run_open(backend_of(c, backend), settings_of(c), source, int(port), show_open_event)


def show_open_event(event) -> None:
    """The words for one of `run_open`'s events (flushed: tests and users wait for them)."""
    from tooling.opening import events

    if isinstance(event, events.CopyReady) and event.restored:
        lines = [f"Restored {event.kind} {event.name} into database {event.database!r}."]
    elif isinstance(event, events.CopyReady):
        lines = [f"Reusing database {event.database!r}: {event.kind} {event.name} is unchanged."]
    elif isinstance(event, events.Serving):
        lines = [f"Mole is serving {event.kind} {event.name} at {event.url}",
                 f"Admin: {event.url}admin/  user {event.username}  password {event.password}",
                 "This login is for this session only. Press Ctrl-C to stop."]
    else:
        lines = [f"Stopped. The throw-away login is removed; {event.database!r} is kept for the next open."]
    for line in lines:
        print(line, flush=True)
