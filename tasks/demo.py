"""The short tour on a fresh clone: what `make demo` runs."""
from __future__ import annotations

from invoke import task

from .backups import backup
from .common import BACKEND_HELP
from .common import PROJECT_DIR
from .common import backend_of
from .common import refuses_dry
from .common import reports_errors
from .database import migrate
from .database import up
from .database import verify
from .legacy import legacy

# The registry case: a diverged schema whose custom migration is committed.
DEMO_LEGACY_DUMP = PROJECT_DIR / "examples" / "legacy" / "divergent_registry.dump"

__all__ = ["demo", "sample_data"]


@task(help={"backend": BACKEND_HELP})
@reports_errors
def sample_data(c, backend=None):
    """Load a small sample campaign into the live database (idempotent)."""
    backend_of(c, backend).manage(["load_sample_data"])


@task(help={"backend": BACKEND_HELP})
@refuses_dry
def demo(c, backend=None):
    """Database up, migrate, sample data, backup, verify; then migrate a legacy example into a bundle."""
    up(c, backend=backend)
    migrate(c, backend=backend)
    sample_data(c, backend=backend)
    backup(c, label="demo", backend=backend)
    verify(c, backend=backend)
    print(f"\nLegacy example: {DEMO_LEGACY_DUMP.relative_to(PROJECT_DIR)}")
    legacy(c, db=str(DEMO_LEGACY_DUMP), backend=backend)
