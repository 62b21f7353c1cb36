"""Run many manage.py commands in this one process: the tooling's Django session.

The protocol is the host side's (tooling.server.django_session): one JSON request per line on
stdin, `{"args": [...], "database": NAME}`; one JSON reply per line on stdout, `{"status": int,
"stdout": str, "stderr": str}`, what `manage.py ARGS` with PGDATABASE=NAME would have printed and
returned. It ends when stdin ends.
"""
import importlib
import io
import json
import os
import sys
import traceback
from contextlib import redirect_stderr
from contextlib import redirect_stdout

from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import ManagementUtility
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS
from django.db import connections


def use_database(name: str) -> None:
    """Point the default connection at database `name`, with nothing cached from the last one.

    A new connection wrapper (not only a reconnect): what a wrapper caches, such as the PostGIS
    version, belongs to one database. Caches keyed by row ids (content types, the current
    site) are cleared, since each database numbers its rows itself.
    """
    connections.close_all()
    connections.settings[DEFAULT_DB_ALIAS]["NAME"] = name
    connections[DEFAULT_DB_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
    os.environ["PGDATABASE"] = name
    ContentType.objects.clear_cache()
    Site.objects.clear_cache()
    # A migration file written during the run (a draft) must be found by the next command.
    importlib.invalidate_caches()


def exit_status(code) -> int:
    """The status `sys.exit(code)` would give a process."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def run_command(args: list[str]) -> dict:
    """Run `manage.py ARGS` here, its output captured; the reply for it."""
    out, err = io.StringIO(), io.StringIO()
    status = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            utility = ManagementUtility(["manage.py", *args])
            utility.fetch_command(args[0]).run_from_argv(["manage.py", *args])
        except SystemExit as stop:
            status = exit_status(stop.code)
        except Exception:  # what would end a manage.py process: its traceback, status 1
            traceback.print_exc()
            status = 1
    return {"status": status, "stdout": out.getvalue(), "stderr": err.getvalue()}


class Command(BaseCommand):
    """`manage.py serve_commands`: answer manage.py requests on stdin until it ends."""

    help = "Run manage.py commands sent as JSON lines on stdin; reply with JSON lines on stdout."
    requires_system_checks = []

    def handle(self, *args, **options):
        # Replies go to a private copy of stdout; anything else that writes to stdout (a
        # library's print) lands on stderr and cannot break a reply.
        replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        for line in sys.stdin:
            request = json.loads(line)
            use_database(request["database"])
            replies.write(json.dumps(run_command(request["args"])) + "\n")
            replies.flush()
        # Its input ended: the run is over. With the connections closed and the replies flushed,
        # leaving at once spares the host half a second of tearing the interpreter down.
        connections.close_all()
        replies.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
