#!/usr/bin/env bash
# The local server is Debian's PostgreSQL with PostGIS (no PyPI wheel carries PostGIS), and
# GeoDjango loads GDAL and GEOS: install them when missing. The major comes from compose/.env.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt_install.sh
major=$(sed -n 's/^POSTGRES_MAJOR=\([0-9][0-9]*\)$/\1/p' compose/.env)
if [ -z "$major" ]; then
    echo "error: compose/.env does not pin POSTGRES_MAJOR" >&2
    exit 1
fi
packages=("postgresql-$major" "postgresql-$major-postgis-3" gdal-bin)
installed() {
    [ -x "/usr/lib/postgresql/$major/bin/postgres" ] \
        && [ -f "/usr/share/postgresql/$major/extension/postgis_tiger_geocoder.control" ] \
        && [ -f "/usr/share/postgresql/$major/extension/postgis_topology.control" ] \
        && command -v gdalinfo >/dev/null 2>&1
}
if installed; then
    exit 0
fi
status=0
apt_install "the local server" --no-install-recommends "${packages[@]}" || status=$?
if [ "$status" -eq 2 ]; then
    exit 0  # warned: the compose and url backends work without them
fi
installed || { echo "error: PostgreSQL $major with PostGIS is still missing after apt-get install" >&2; exit 1; }
