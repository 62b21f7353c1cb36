#!/usr/bin/env bash
# The local server is Debian's PostgreSQL with PostGIS (no PyPI wheel carries PostGIS), and
# GeoDjango loads GDAL and GEOS: install them when missing. The major comes from compose/.env.
set -euo pipefail
cd "$(dirname "$0")/.."
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
if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: no apt-get here: the local backend needs PostgreSQL $major with PostGIS 3, GDAL and GEOS" \
         "under /usr/lib/postgresql/$major (the compose and url backends do not)" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "warning: run as root: apt-get install ${packages[*]} (the local backend needs them)" >&2
    exit 0
fi
echo "Installing Debian's ${packages[*]} for the local server ..."
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${packages[@]}" >/dev/null
installed || { echo "error: PostgreSQL $major with PostGIS is still missing after apt-get install" >&2; exit 1; }
