#!/usr/bin/env bash
# Installs everything mysqlclone's build and tests need. Safe to run any number of times:
# every step checks before it acts, and no system service is ever started.
#
#   tools/setup.sh            build deps + MariaDB 10.11 + sysbench + private MySQL 9.7.4 root
#                            + lintian (the .deb's checks)
#
# The private server roots (MySQL 9.7.4, MariaDB 11.8.9) are unpacked under $MYSQLCLONE_ROOTS
# (default /var/cache/mysqlclone/roots) by tools/servers/build-root.sh; nothing from sid or
# trixie is ever installed into the system.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libcli11-dev default-libmysqlclient-dev libssl-dev liblz4-dev libzstd-dev libfmt-dev
  libgtest-dev libgmock-dev nlohmann-json3-dev
  clang libclang-rt-dev
  mariadb-server mariadb-client mariadb-backup sysbench
  man-db groff-base time bc e2fsprogs util-linux mount openssl
  lintian dpkg-dev file systemd  # the .deb: its checks, dpkg-shlibdeps, systemd-analyze verify
  openssh-client openssh-server  # remote --ssh tests: a private sshd per test (tools/servers/sshd.sh)
  xfsprogs  # reflink tests: an XFS file system in a loop file, in a private mount namespace (tools/xfs_scratch.sh)
  fio sysstat  # benchmarks: the disk's own copy limit (fio), queue depths (iostat)
)

log() { printf '%s setup: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root (it installs Debian packages)" >&2
  exit 1
fi

# Debian's packages start their services on install; a test machine must not run a system
# MariaDB on the default port. policy-rc.d exit 101 = "action forbidden".
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  log "created /usr/sbin/policy-rc.d (no service starts on install)"
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages already installed"
fi

# openssh-server enables its unit on install (policy-rc.d only kept it from starting now). The
# tests run their own sshd on their own port and never need the system one, so when this script
# is what installed it, it is disabled too: no sshd on port 22 appears at the next boot. An
# openssh-server installed before (a machine someone logs into) is left exactly as it was.
if [[ " ${missing[*]} " == *" openssh-server "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --quiet ssh.service >/dev/null 2>&1 || true
  log "disabled the system ssh unit that openssh-server enabled (the tests run their own sshd)"
fi

# The package may have started nothing (policy-rc.d), but make sure: a system mariadbd on
# 3306 would confuse users of the demo.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mariadb 2>/dev/null; then
  log "note: a system mariadb service is running; mysqlclone's test servers use their own ports"
fi

"$here/servers/build-root.sh" mysql-9.7
"$here/servers/build-root.sh" mariadb-11.8
log "done"
