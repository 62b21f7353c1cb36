# Sourced by the install scripts. `apt_install NEEDED_BY [APT-OPTION|PACKAGE]...` installs Debian
# packages as root or with sudo. Where there is no apt-get, or neither root nor sudo, it warns
# (naming the packages and what needs them) and returns 2; a failed apt-get returns its status.
apt_install() {
    local needed_by=$1
    shift
    local as_root=()
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "warning: no apt-get here: install $* yourself ($needed_by needs them)" >&2
        return 2
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "warning: run as root: apt-get install $* ($needed_by needs them)" >&2
            return 2
        fi
        as_root=(sudo)
    fi
    echo "Installing Debian's $* for $needed_by ..."
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
        && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}
