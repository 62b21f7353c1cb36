"""Is a legacy bundle still what it was? Its checksums, and its migrated dump restored and
verified against the head it was made at (its manifest says which)."""

from __future__ import annotations

from dataclasses import dataclass

from tooling.compliance.lineage import later_migrations
from tooling.compliance.lineage import point_of_record
from tooling.compliance.lineage import schema_lineage
from tooling.compliance.verification import HistoryPoint
from tooling.compliance.verification import VerificationReport
from tooling.compliance.verification import verify_database
from tooling.errors import ToolingError
from tooling.legacy.bundle_store import Bundle
from tooling.legacy.registry import read_registry
from tooling.server.backends import Backend
from tooling.settings import Settings


@dataclass(frozen=True)
class BundleCheck:
    """The verification at the bundle's own head, and the migrations today's history adds after it."""

    made_at: str
    later: tuple[str, ...]
    report: VerificationReport

    @property
    def ok(self) -> bool:
        """True when the restored dump verified."""
        return self.report.ok


def history_point(backend: Backend, settings: Settings, head: str) -> HistoryPoint:
    """`head` in today's history: Mole's tables then, and the migrations after it."""
    steps = schema_lineage(backend, settings)
    point = point_of_record(steps, head, read_registry(backend, settings).custom_labels)
    at = next((step for step in steps if step.migration == point), None)
    if at is None:
        raise ToolingError(f"the bundle was made at {head}, which today's migration history does not have")
    return HistoryPoint(head, at.tables, later_migrations(steps, at))


def check_bundle(backend: Backend, settings: Settings, bundle: Bundle) -> BundleCheck:
    """Raises ChecksumMismatch for any altered file (manifest.json included); else restores the
    migrated dump into a scratch database and verifies it at the head recorded in the manifest."""
    bundle.verify_checksums()
    head = bundle.manifest.get("migration_head")
    if not head:
        raise ToolingError(f"bundle {bundle.name}'s manifest records no migration head")
    with backend.django_session(), backend.admin.scratch_database("bundle_check", bare=True) as scratch:
        at = history_point(backend, settings, head)
        backend.tools.restore(scratch, bundle.migrated_dump)
        backend.admin.ensure_extensions(scratch)
        report = verify_database(backend, settings, scratch, at=at if at.later else None)
    return BundleCheck(head, at.later, report)
