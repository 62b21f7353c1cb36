"""From a legacy dump to a verified bundle: load, place in the history, migrate, prove."""
