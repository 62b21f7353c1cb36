"""Django-free model of a PostgreSQL schema: read from the catalogs, compared, planned, written."""
