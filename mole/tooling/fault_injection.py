"""Points where tests make a run fail or stop, to prove that nothing is lost whatever happens.

Both are inert unless their environment variable names the point.
"""
from __future__ import annotations

import os
import sys
import time

FAULT_VARIABLE = "MOLE_FAULT_AT"
PAUSE_VARIABLE = "MOLE_PAUSE_AT"
PAUSE_SECONDS = 600


def fault_point(name: str) -> str:
    """SQL that fails right here when $MOLE_FAULT_AT names this point ("" otherwise)."""
    if os.environ.get(FAULT_VARIABLE) != name:
        return ""
    return f"DO $$ BEGIN RAISE EXCEPTION 'fault injected at {name}'; END $$; "


def pause_point(name: str) -> None:
    """When $MOLE_PAUSE_AT names this point, say so on stderr and wait, for a test to kill the run."""
    if os.environ.get(PAUSE_VARIABLE) != name:
        return
    print(f"paused at {name}", file=sys.stderr, flush=True)
    time.sleep(PAUSE_SECONDS)
