"""The PostgreSQL extensions every Mole database has.

Real Mole runs the PostGIS image (`postgis/postgis`), whose start-up script creates
these four in Mole's database (docker-postgis, `initdb-postgis.sh`); a real Mole dump
asks for them. The tooling creates them in each database it makes.
"""
from __future__ import annotations

from schema.quoting import identifier

MOLE_EXTENSIONS = ("postgis", "postgis_topology", "fuzzystrmatch", "postgis_tiger_geocoder")
# The schemas those extensions make. Their tables belong to the superuser who created them; pg_dump
# reads some (the configuration tables), so a tooling user that is no superuser must be able to.
EXTENSION_SCHEMAS = ("topology", "tiger", "tiger_data")


def create_extensions_sql() -> str:
    """`CREATE EXTENSION IF NOT EXISTS ...` for each of them, as one SQL string."""
    return "; ".join(f"CREATE EXTENSION IF NOT EXISTS {identifier(name)}" for name in MOLE_EXTENSIONS)


def readable_extension_schemas_sql() -> str:
    """GRANTs that let every role read the extensions' schemas, as one SQL string (for template1)."""
    schemas = ", ".join(identifier(name) for name in EXTENSION_SCHEMAS)
    return (f"GRANT USAGE ON SCHEMA {schemas} TO PUBLIC; "
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {schemas} TO PUBLIC; "
            f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA {schemas} TO PUBLIC")
