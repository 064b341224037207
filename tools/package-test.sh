#!/usr/bin/env bash
# Acceptance of the Debian package (issue 13), run by tools/test.sh after tools/build.sh
# release: makes the .deb from BUILD (default build-release), runs lintian (any error fails),
# installs the package into a throwaway root (never into this machine's system) and checks what
# a user gets: the binary and its version, the man page, the bash completion, the systemd units.
#   tools/package-test.sh [BUILD]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
version=$(sed -n 's/^project(mysqlclone VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
root=$(mktemp -d /tmp/mysqlclone-package.XXXXXX)
trap 'rm -rf "$root"' EXIT
fail() { echo "package-test: $*" >&2; exit 1; }

cmake --build "$build" --target mysqlclone package_files >/dev/null
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { cat "$build/cpack.log"; fail "cpack failed"; }
deb=$build/mysqlclone_${version}_amd64.deb
[ -f "$deb" ] || fail "cpack made no $deb"
echo "== lintian $deb (accepted warnings: packaging/README.md)"
lintian --fail-on error --tag-display-limit 0 "$deb"

# dpkg with its database in the root too; the dependencies are this machine's libraries, which
# the root lacks.
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" >/dev/null
dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}\n' mysqlclone | grep -q '/etc/mysqlclone/mysqlclone.cnf' ||
  fail "/etc/mysqlclone/mysqlclone.cnf is not a conffile"
[ "$(stat -c %a "$root/etc/mysqlclone/mysqlclone.cnf")" = 600 ] || fail "mysqlclone.cnf is not mode 0600"

got=$("$root/usr/bin/mysqlclone" --version)
[[ $got == "mysqlclone $version"* ]] || fail "--version says '$got', the package is $version"
[ "$(MANPATH="$root/usr/share/man" man -w mysqlclone)" = "$root/usr/share/man/man1/mysqlclone.1.gz" ] ||
  fail "man -w does not find the installed page"
completed=$(bash -c 'source "$1/usr/share/bash-completion/completions/mysqlclone"
                     COMP_WORDS=(mysqlclone --quiet lo); COMP_CWORD=2; _mysqlclone; echo "${COMPREPLY[*]}"' _ "$root")
[ "$completed" = local ] || fail "completing 'mysqlclone --quiet lo' gave '$completed'"

# An instance of each template, as systemctl would load them from the installed root, with the
# system's targets and slices (their default dependencies) beside them.
units=$root/lib/systemd/system
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice "$units/"
cp "$units/mysqlclone-backup@.service" "$units/mysqlclone-backup@nightly.service"
cp "$units/mysqlclone-backup@.timer" "$units/mysqlclone-backup@nightly.timer"
# verify exits 0 on unknown keys and bad values (it only prints them): any word from it fails.
said=$(systemd-analyze verify --root="$root" --man=no \
         "$units/mysqlclone-backup@nightly.service" "$units/mysqlclone-backup@nightly.timer" 2>&1) ||
  fail "systemd-analyze verify failed: $said"
[ -z "$said" ] || fail "systemd-analyze verify: $said"
echo "== package $deb: lintian, install, --version, man, completion, systemd units OK"
