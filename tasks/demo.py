"""The short tour on a fresh clone: what `make demo` runs."""
from __future__ import annotations

from invoke import task

from .backups import backup
from .common import BACKEND_HELP
from .common import backend_of
from .common import reports_errors
from .database import migrate
from .database import up
from .database import verify

__all__ = ["demo", "sample_data"]


@task(help={"backend": BACKEND_HELP})
@reports_errors
def sample_data(c, backend=None):
    """Load a small sample campaign into the live database (idempotent)."""
    backend_of(c, backend).manage(["load_sample_data"])


@task(help={"backend": BACKEND_HELP})
def demo(c, backend=None):
    """Bring up the database, migrate it, load sample data, back it up and verify it."""
    up(c, backend=backend)
    migrate(c, backend=backend)
    sample_data(c, backend=backend)
    backup(c, label="demo", backend=backend)
    verify(c, backend=backend)
