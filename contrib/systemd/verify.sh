#!/bin/sh
# Checks contrib/systemd/qnode.service with `systemd-analyze verify`.
#
#   contrib/systemd/verify.sh [QNODE_BINARY]   (default target/release/qnode)
#
# The unit's ExecStart names /usr/local/bin/qnode, which a build machine may not have, and
# verify reports a missing binary; so the unit is copied to a temporary directory with
# ExecStart pointing at QNODE_BINARY (an existing qnode) and verified there. Exits 1 if
# any line systemd-analyze prints names the unit (a warning or error about it), or if
# systemd-analyze fails.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
unit=qnode.service
bin=${1:-target/release/qnode}

if [ ! -x "$bin" ]; then
    echo "verify.sh: $bin is not an executable file (build qnode, or give its path)" >&2
    exit 2
fi
case $bin in
    /*) ;;
    *) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
sed "s|^ExecStart=/usr/local/bin/qnode |ExecStart=$bin |" "$here/$unit" >"$tmp/$unit"
if ! grep -q "^ExecStart=$bin " "$tmp/$unit"; then
    echo "verify.sh: no 'ExecStart=/usr/local/bin/qnode ' line to rewrite in $unit" >&2
    exit 1
fi

status=0
out=$(systemd-analyze verify --man=no "$tmp/$unit" 2>&1) || status=$?
[ -n "$out" ] && printf '%s\n' "$out"
if printf '%s\n' "$out" | grep -q "$unit"; then
    echo "verify.sh: $unit has warnings" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "verify.sh: systemd-analyze verify exited with $status" >&2
    exit 1
fi
echo "verify.sh: $unit OK (ExecStart=$bin)"
