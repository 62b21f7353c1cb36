"""Is a legacy bundle still what it was? Its checksums, and its migrated dump restored and verified."""

from __future__ import annotations

from .backends import Backend
from .bundle_store import Bundle
from .settings import Settings
from .verification import VerificationReport
from .verification import verify_database


def check_bundle(backend: Backend, settings: Settings, bundle: Bundle) -> VerificationReport:
    """Raises ChecksumMismatch for any altered file; else restores into a scratch database and verifies."""
    bundle.verify_checksums()
    with backend.scratch_database("bundle_check") as scratch:
        with bundle.migrated_dump.open("rb") as stream:
            backend.client(
                "pg_restore",
                ["--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={scratch}"],
                stdin=stream,
                stdin_path=bundle.migrated_dump,
            )
        return verify_database(backend, settings, scratch)
