#!/usr/bin/env bash
# A throwaway OpenSSH server on 127.0.0.1 for the tests of `mysqlclone remote --ssh`: its own
# directory, port, host key, client key and sshd_config. Never the system service: /etc/ssh is
# not read, nothing under /etc is touched, and the system unit is neither started nor needed.
#
#   sshd.sh start DIR --port N   makes DIR's keys and config (first start only), starts sshd,
#                                waits until it answers on 127.0.0.1:N
#   sshd.sh stop DIR             stops it (SIGTERM, then SIGKILL) and waits until it is gone
#
# DIR then holds sshd_config, host_ed25519_key(.pub), client_ed25519(.pub) (the only key that
# logs in, as the user who ran start), authorized_keys, known_hosts ("[127.0.0.1]:N" with the
# host key), sshd.pid and sshd.log. A client uses it with
#   ssh -o UserKnownHostsFile=DIR/known_hosts -o IdentityFile=DIR/client_ed25519 \
#       -o IdentitiesOnly=yes -o Port=N USER@127.0.0.1
# sshd must run as root (it changes to the user who logs in); so must this script.
set -euo pipefail

START_TIMEOUT=20  # seconds for sshd to answer
STOP_TIMEOUT=20   # seconds for sshd to exit after SIGTERM

die() { echo "sshd.sh: $*" >&2; exit 1; }
usage() { sed -n '5,8s/^# \{0,1\}//p' "$0" >&2; exit 2; }

sshd_pid() { [ -s "$1/sshd.pid" ] && cat "$1/sshd.pid"; }
# running PID: exists and is not a zombie (a container's init may be slow to reap, or never).
running() {
  local state
  [ -r "/proc/$1/stat" ] || return 1
  read -r _ _ state _ < "/proc/$1/stat" || return 1
  [ "$state" != Z ]
}
alive() { local pid; pid=$(sshd_pid "$1") && running "$pid"; }

start() {
  local dir=$1 port=$2 user
  [ "$(id -u)" -eq 0 ] || die "must run as root (sshd changes to the user who logs in)"
  [ -x /usr/sbin/sshd ] || die "no /usr/sbin/sshd: run tools/setup.sh (it installs openssh-server)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  alive "$dir" && die "an sshd already runs for $dir (pid $(sshd_pid "$dir"))"
  user=$(id -un)
  [ -f "$dir/host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "mysqlclone test host" -f "$dir/host_ed25519_key"
  [ -f "$dir/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "mysqlclone test client" -f "$dir/client_ed25519"
  cp "$dir/client_ed25519.pub" "$dir/authorized_keys"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$dir/host_ed25519_key.pub")" > "$dir/known_hosts"
  # StrictModes off: DIR may sit under a world-writable /tmp. No PAM: a container's session
  # modules (loginuid, systemd) would refuse the login; keys are the only way in.
  cat > "$dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
LogLevel VERBOSE
EOF
  # The privilege-separation directory Debian's sshd insists on (the unit would make it).
  [ -d /run/sshd ] || install -d -m 0755 /run/sshd
  /usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd refuses $dir/sshd_config"
  rm -f "$dir/sshd.pid"
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || die "sshd did not start: $(tail -5 "$dir/sshd.log" 2>/dev/null)"
  local waited=0
  until alive "$dir" && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ "$waited" -lt $((START_TIMEOUT * 10)) ] || die "sshd on port $port did not answer within ${START_TIMEOUT}s: $(tail -5 "$dir/sshd.log" 2>/dev/null)"
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "sshd.sh: sshd (pid $(sshd_pid "$dir")) on 127.0.0.1:$port for $user, keys in $dir" >&2
}

stop() {
  local dir=$1 pid waited=0
  [ -d "$dir" ] || die "no directory $dir"
  pid=$(sshd_pid "$dir") || { echo "sshd.sh: no sshd for $dir" >&2; return 0; }
  kill "$pid" 2>/dev/null || true
  while running "$pid"; do
    [ "$waited" -lt $((STOP_TIMEOUT * 10)) ] || kill -9 "$pid" 2>/dev/null || true
    [ "$waited" -lt $((STOP_TIMEOUT * 20)) ] || die "sshd (pid $pid) did not exit"
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$dir/sshd.pid"
}

[ $# -ge 2 ] || usage
case "$1" in
  start)
    if [ $# -ne 4 ] || [ "$3" != --port ]; then usage; fi
    if ! [[ "$4" =~ ^[0-9]+$ ]] || [ "$4" -lt 1 ] || [ "$4" -gt 65535 ]; then die "--port $4: expected 1..65535"; fi
    start "$2" "$4" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
