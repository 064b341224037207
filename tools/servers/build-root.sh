#!/usr/bin/env bash
# Unpacks a server's Debian packages into a private root that runs through its own loader.
# Never installs anything into the system (sid/trixie libraries would break bookworm).
#
#   build-root.sh mysql-9.7 | mariadb-11.8      prints nothing; the root is at roots_dir/<flavour>
#
# Source of the packages, in order:
#   1. the pinned set in ../shared/servers/<name>-debs (SHA256SUMS verified) — CI tests the same
#      bits every time;
#   2. otherwise a download from the suite with a private apt state (a user's machine).
# Idempotent: a stamp file records what the root was built from; a matching root is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

flavour=${1:?usage: build-root.sh mysql-9.7|mariadb-11.8}
case "$flavour" in
  mysql-9.7)    pinned=mysql-9.7.4-debs;    suite=sid;    pkgs=(mysql-server-core mysql-client-core) ;;
  mariadb-11.8) pinned=mariadb-11.8.9-debs; suite=trixie; pkgs=(mariadb-server-core mariadb-client-core mariadb-backup) ;;
  *) echo "build-root: unknown flavour '$flavour'" >&2; exit 2 ;;
esac

root=$(root_dir "$flavour")
pinned_dir="$(shared_dir)/servers/$pinned"
mkdir -p "$(dirname "$root")"

if [ -f "$pinned_dir/SHA256SUMS" ]; then
  want="pinned $(sha256sum < "$pinned_dir/SHA256SUMS" | cut -c1-64)"
else
  want="suite $suite"
fi
if [ -f "$root/.stamp" ] && [ "$(cat "$root/.stamp")" = "$want" ]; then
  exit 0
fi

work=$(mktemp -d "$(dirname "$root")/.build-$flavour.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root"

if [ -f "$pinned_dir/SHA256SUMS" ]; then
  echo "build-root: $flavour from pinned packages in $pinned_dir" >&2
  (cd "$pinned_dir" && sha256sum --quiet -c SHA256SUMS) || {
    echo "build-root: checksum mismatch in $pinned_dir" >&2; exit 1; }
  debs=("$pinned_dir"/*.deb)
else
  echo "build-root: $flavour from Debian $suite (no pinned set at $pinned_dir)" >&2
  apt_dir="$work/apt"
  mkdir -p "$apt_dir"/{lists/partial,archives/partial,cache,etc/preferences.d,etc/apt.conf.d}
  : > "$apt_dir/status"   # empty: otherwise apt skips libc6 & co as "installed"
  echo "deb http://deb.debian.org/debian $suite main" > "$apt_dir/etc/sources.list"
  opts=(-o Dir::Etc::SourceList="$apt_dir/etc/sources.list" -o Dir::Etc::SourceParts=-
        -o Dir::Etc::Preferences="$apt_dir/etc/preferences" -o Dir::Etc::PreferencesParts="$apt_dir/etc/preferences.d"
        -o Dir::State::Lists="$apt_dir/lists" -o Dir::State::status="$apt_dir/status"
        -o Dir::Cache="$apt_dir/cache" -o Dir::Cache::Archives="$apt_dir/archives"
        -o APT::Install-Recommends=false -o APT::Get::AllowUnauthenticated=false
        -o Debug::NoLocking=true)
  apt-get "${opts[@]}" -qq update
  apt-get "${opts[@]}" -qq install -y --download-only "${pkgs[@]}" >/dev/null
  debs=("$apt_dir"/archives/*.deb)
fi

for d in "${debs[@]}"; do dpkg-deb -x "$d" "$work/root"; done
[ -x "$work/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] || \
  [ -e "$work/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] || {
  echo "build-root: no loader in the unpacked root" >&2; exit 1; }
echo "$want" > "$work/root/.stamp"
rm -rf "$root"
mv "$work/root" "$root"
echo "build-root: $flavour ready at $root" >&2
