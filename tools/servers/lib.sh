# Shared paths and helpers for the test-server scripts (sourced, not run).
# shellcheck shell=bash

repo_dir() { (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); }
# shared/ lives beside the repository (CI: a fresh clone with shared/ next to it).
shared_dir() { echo "${MYSQLCLONE_SHARED:-$(repo_dir)/../shared}"; }
roots_dir() { echo "${MYSQLCLONE_ROOTS:-/var/cache/mysqlclone/roots}"; }
root_dir() { echo "$(roots_dir)/$1"; }

# The flavours server.sh knows. mariadb-10.11 runs the system (bookworm) binaries; the others run
# from a private root built by build-root.sh, through that root's own loader.
FLAVOURS=(mariadb-10.11 mysql-9.7 mariadb-11.8)

known_flavour() {
  local f
  for f in "${FLAVOURS[@]}"; do [ "$f" = "$1" ] && return 0; done
  return 1
}

# flavour_root FLAVOUR: prints the private root, or nothing for the system flavour.
flavour_root() {
  case "$1" in
    mariadb-10.11) ;;
    mysql-9.7|mariadb-11.8) root_dir "$1" ;;
    *) return 1 ;;
  esac
}

# is_mysql FLAVOUR: MySQL (as opposed to MariaDB) — decides SQL dialect, init method, options.
is_mysql() { case "$1" in mysql-*) return 0 ;; *) return 1 ;; esac; }

# The client, server and init programs of a flavour (names inside the root or on the PATH).
flavour_server() { if is_mysql "$1"; then echo mysqld; else echo mariadbd; fi; }
flavour_client() { if is_mysql "$1"; then echo mysql; else echo mariadb; fi; }

# find_program FLAVOUR PROGRAM: prints the full path of PROGRAM for FLAVOUR, or fails.
# A PROGRAM containing a slash is taken as is (lets callers name a file inside the root).
find_program() {
  local flavour=$1 prog=$2 root d
  case "$prog" in */*) [ -e "$prog" ] && { echo "$prog"; return 0; }; return 1 ;; esac
  root=$(flavour_root "$flavour")
  if [ -z "$root" ]; then
    # System flavour: the PATH, plus sbin directories a non-root PATH may lack (mariadbd).
    command -v "$prog" 2>/dev/null && return 0
    for d in /usr/sbin /sbin; do
      [ -x "$d/$prog" ] && { echo "$d/$prog"; return 0; }
    done
    return 1
  fi
  for d in usr/sbin usr/bin; do
    [ -e "$root/$d/$prog" ] && { echo "$root/$d/$prog"; return 0; }
  done
  return 1
}

# flavour_cmd FLAVOUR PROGRAM: sets the global array CMD to the command prefix that runs PROGRAM
# of FLAVOUR; callers append arguments ("${CMD[@]}" args...). For a private root that is the
# root's own ld.so with --inhibit-cache and the root's library directory: the binaries need
# sid/trixie's libc and friends, and the host's ld cache would hand them bookworm's. GCONV_PATH
# and OPENSSL_MODULES point at the root's modules for the same reason (the compiled-in paths are
# the host's /usr/lib/...). The server gets LC_ALL=C, clients C.UTF-8 (built into the root's
# glibc, so no locale files are needed). MARIADB_PLUGIN_DIR / LIBMYSQL_PLUGIN_DIR: the client
# libraries' auth plugins (caching_sha2_password, ed25519...) live in the root, not in /usr/lib.
flavour_cmd() {
  local flavour=$1 prog=$2 root path lib lc base
  CMD=()
  path=$(find_program "$flavour" "$prog") || {
    echo "server.sh: no program '$prog' for $flavour" >&2; return 1; }
  root=$(flavour_root "$flavour")
  if [ -z "$root" ]; then
    CMD=("$path")
    return 0
  fi
  # ld.so cannot run scripts (mysqld_safe, mariadb-install-db, ...).
  # The ELF magic read by bash itself: this runs for every client call (server.sh sql), and three
  # programs in a pipeline cost more than the check is worth.
  local magic=""
  IFS= read -r -N 4 magic < "$path" 2>/dev/null || true
  if [ "$magic" != $'\x7fELF' ]; then
    echo "server.sh: $path is not an ELF program; it cannot run through the root's loader" >&2
    return 1
  fi
  lib=$root/usr/lib/x86_64-linux-gnu
  base=${prog##*/}
  case "$base" in mysqld|mariadbd) lc=C ;; *) lc=C.UTF-8 ;; esac
  CMD=(env LC_ALL="$lc" GCONV_PATH="$lib/gconv" OPENSSL_MODULES="$lib/ossl-modules"
       OPENSSL_ENGINES="$lib/engines-3")
  if is_mysql "$flavour"; then
    CMD+=(LIBMYSQL_PLUGIN_DIR="$root/usr/lib/mysql/plugin")
  else
    CMD+=(MARIADB_PLUGIN_DIR="$lib/libmariadb3/plugin")
  fi
  # --argv0 keeps the program's own name (clients print it; mariadb warns on the mysql* names).
  CMD+=("$lib/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$lib" --argv0 "$path" "$path")
}

# make_wrapper_prefix FLAVOUR PREFIX: lays out PREFIX as the basedir mariadb-install-db expects
# (bin/my_print_defaults, bin/resolveip, sbin/mariadbd, share/mariadb, lib/mysql/plugin). The
# script runs those by path, so each one is a tiny wrapper that goes through the root's loader.
make_wrapper_prefix() {
  local flavour=$1 prefix=$2 root p d
  root=$(flavour_root "$flavour")
  rm -rf "$prefix"
  mkdir -p "$prefix/bin" "$prefix/sbin" "$prefix/lib/mysql"
  ln -s "$root/usr/share" "$prefix/share"
  ln -s "$root/usr/lib/mysql/plugin" "$prefix/lib/mysql/plugin"   # may dangle: no server plugins
  cp "$root/usr/bin/mariadb-install-db" "$prefix/bin/"
  for p in my_print_defaults resolveip mariadb mariadbd; do
    d=bin; [ "$p" = mariadbd ] && d=sbin
    flavour_cmd "$flavour" "$p"
    { echo '#!/usr/bin/env bash'
      printf 'exec'; printf ' %q' "${CMD[@]}"; printf ' "$@"\n'
    } > "$prefix/$d/$p"
    chmod +x "$prefix/$d/$p"
  done
}

# page_size_bytes 4k|8k|16k|32k|64k (or bytes): prints bytes, fails on anything else.
page_size_bytes() {
  case "$1" in
    4k|4K|4096) echo 4096 ;;
    8k|8K|8192) echo 8192 ;;
    16k|16K|16384) echo 16384 ;;
    32k|32K|32768) echo 32768 ;;
    64k|64K|65536) echo 65536 ;;
    *) return 1 ;;
  esac
}

# datadir_page_size DATADIR: prints the InnoDB page size recorded in ibdata1's page 0, or fails.
# FSP_SPACE_FLAGS sit at byte 54 (FIL header 38 + 16). MariaDB full_crc32 files (bit 4 set, the
# default since 10.5) keep the page ssize in bits 0-3; MySQL and legacy MariaDB in bits 6-9, where
# 0 means 16K. ibdata1 is never ROW_FORMAT=COMPRESSED, so bit 4 is free of zip-size bits there.
datadir_page_size() {
  local f=$1/ibdata1 type flags ssize
  [ -r "$f" ] || return 1
  type=$(od -An -tu2 --endian=big -j24 -N2 "$f" | tr -d ' ')
  [ "$type" = 8 ] || return 1          # not an FSP_HDR page (e.g. page 0 not flushed yet)
  flags=$(od -An -tu4 --endian=big -j54 -N4 "$f" | tr -d ' ')
  if (( flags & 16 )); then ssize=$(( flags & 15 )); else ssize=$(( (flags >> 6) & 15 )); fi
  (( ssize == 0 )) && ssize=5
  (( ssize >= 3 && ssize <= 7 )) || return 1
  echo $(( 512 << ssize ))
}

# pid_alive PID: the process exists and is not a zombie. PID 1 of a container may never reap a
# detached server, and kill -0 succeeds on a zombie.
pid_alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# server_pid DIR: prints the pid of DIR's live server, or fails. The pid file alone is not
# trusted: the process must also carry DIR's --defaults-file on its command line, so a stale pid
# file whose number was reused never leads to signalling a stranger. (Private-root servers show up
# as ld-linux-x86-64 in ps, so names are useless; the command line still has the option.)
server_pid() {
  local dir=$1 pid
  [ -f "$dir/mysqld.pid" ] || return 1
  pid=$(tr -dc '0-9' < "$dir/mysqld.pid")
  [ -n "$pid" ] || return 1
  pid_alive "$pid" || return 1
  tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "--defaults-file=$dir/my.cnf" || return 1
  echo "$pid"
}

# port_free PORT: nothing listens on PORT (any address family).
port_free() {
  [ -z "$(ss -Htln "( sport = :$1 )" 2>/dev/null)" ]
}
