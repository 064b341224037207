#!/usr/bin/env bash
# Runs a command with a fresh XFS file system that has reflinks (mkfs.xfs -m reflink=1) mounted
# for it alone:
#
#   tools/xfs_scratch.sh [--size SIZE] COMMAND [ARGS...]     (root; SIZE for truncate, default 8G)
#
# COMMAND runs with MYSQLCLONE_XFS_DIR set to the mount point. The file system lives in a sparse
# file under /var/tmp and is mounted through a loop device in a private mount namespace
# (unshare --mount): no other process and no mount table of the machine sees it. When COMMAND and
# everything it started have exited, the namespace goes, and with it the mount and the loop
# device (mount -o loop sets autoclear); the file is removed when this script ends. Exits with
# COMMAND's status; a file system that cannot be made or mounted is a failure (exit 1), never a
# skip: whatever needs it must not pass without it.
set -euo pipefail

size=8G
if [ "${1:-}" = "--size" ]; then
  size=$2
  shift 2
fi
[ $# -ge 1 ] || { sed -n '2,13p' "$0" >&2; exit 2; }

fail() { echo "xfs_scratch: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (mount, loop devices)"
command -v mkfs.xfs >/dev/null || fail "mkfs.xfs not found (tools/setup.sh installs xfsprogs)"

image=$(mktemp /var/tmp/mysqlclone-xfs.XXXXXX)
mnt=$(mktemp -d /tmp/mcxfs.XXXXXX)  # short: server sockets may live under it
trap 'rm -f "$image"; rmdir "$mnt" 2>/dev/null || true' EXIT
truncate -s "$size" "$image"
mkfs.xfs -q -f -m reflink=1 "$image" || fail "mkfs.xfs -m reflink=1 $image failed"

# Inside the namespace: mount, then run COMMAND as this shell's child (not exec: the mount
# must outlive nothing but the namespace, and COMMAND's status is passed on).
unshare --mount --propagation private -- bash -c '
  set -euo pipefail
  mnt=$1 image=$2
  shift 2
  mount -o loop "$image" "$mnt" || { echo "xfs_scratch: cannot mount $image on $mnt" >&2; exit 1; }
  # Direct I/O from the loop device to its file: what the file system writes reaches the disk,
  # not the host'"'"'s page cache (benchmarks measure the disk; O_DIRECT means what it says).
  losetup --direct-io=on "$(findmnt -n -o SOURCE "$mnt")" ||
    echo "xfs_scratch: the loop device refused direct I/O; its I/O goes through the page cache" >&2
  export MYSQLCLONE_XFS_DIR=$mnt
  "$@"
' xfs_scratch "$mnt" "$image" "$@"
