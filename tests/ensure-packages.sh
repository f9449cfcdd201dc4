#!/bin/sh
# ensure-packages.sh PKG... -- installs the Debian packages that are missing.
# As root it runs apt-get; otherwise it names the packages and fails.
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "vsx: missing Debian packages:$missing" >&2
    echo "vsx: install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "vsx: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $missing >/tmp/vsx-apt.log 2>&1 || {
    apt-get update -q >>/tmp/vsx-apt.log 2>&1
    apt-get install -y -q $missing >>/tmp/vsx-apt.log 2>&1
} || { echo "vsx: apt-get failed, see /tmp/vsx-apt.log" >&2; tail -20 /tmp/vsx-apt.log >&2; exit 1; }
