"""Logging filters for Mole's web server."""
import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx response (a view-only login refused a page, a page not found) is the visitor's
    business, not a crash: log its one line without the traceback Django attaches."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
