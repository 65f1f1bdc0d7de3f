#!/usr/bin/env bash
# Starts a real NETCONF device on loopback for tests: Debian's netconfd 2.13
# behind a dedicated sshd, in a scratch directory (facts:
# ../shared/netconfd.md). Prints nothing; writes DIR/pids when both are up.
#   start_device.sh DIR PORT USER PASSWORD [netconfd|sshd|all]
# NETCONFD_EXTRA_ARGS adds netconfd arguments (e.g. --target=running).
# Idempotent for the user; a stale ncxserver socket is removed first. The
# modules are loaded by .yang path so that Debian's server plug-in (which runs
# ifconfig on real interfaces) stays out: a pure datastore.
#
# Found here beyond ../shared/netconfd.md:
#  - netconfd 2.13 crashed ("double free or corruption") when a session
#    fetched modules with get-schema while another session was open: clients
#    in one test share one schema cache folder, so only the first downloads.
#  - its confirmed-commit timer fires only once its session loop has been
#    idle for a while (about a second): a rollback test must not poll fast or
#    keep a fast keepalive.
#  - the scratch folder must be readable by the test user
#    (netconf-subsystem runs as that user and opens the socket).
# Scale runs (many sessions to one server) raise the limits with
# NETCONFD_MAX_SESSIONS (netconfd default 1024) and SSHD_MAX_STARTUPS
# (unauthenticated connections sshd accepts at once, default here 200).
set -euo pipefail
dir=$1 port=$2 user=$3 password=$4 what=${5:-all}
mkdir -p "$dir" /run/sshd
# netconf-subsystem runs as the test user and must reach the socket.
chmod 755 "$dir"
modules=/usr/share/yuma/modules/ietf

# Many test runs share the machine and this user: create it and set its
# password once, under a lock. Rewriting the password on every start raced
# with other runs' SSH logins (authentication failed now and then).
(
  flock 9
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd -M -s /bin/sh "$user" 2>/dev/null || id -u "$user" >/dev/null
  fi
  if [[ $(passwd -S "$user" | awk '{print $2}') != P ]]; then
    echo "$user:$password" | chpasswd
  fi
) 9>/tmp/southgate-netconf-test-user.lock

if [[ $what == all || $what == netconfd ]]; then
  rm -f "$dir/ncx.sock"
  # netconfd keeps a transaction-id file in the user's ~/.yuma (found from
  # the password database, not $HOME, whatever --home says): concurrent
  # netconfds on the machine corrupted each other's ("Read txid file
  # failed"). Each one gets its own ~/.yuma in a private mount namespace.
  mkdir -p "$dir/yuma-home" "$(getent passwd "$(id -un)" | cut -d: -f6)/.yuma"
  unshare --mount --propagation private /bin/sh -c \
    'mount --bind "$0" "$(getent passwd "$(id -un)" | cut -d: -f6)/.yuma" &&
     exec "$@"' "$dir/yuma-home" \
  netconfd --no-startup --superuser="$user" --port="$port" \
    --ncxserver-sockname="$dir/ncx.sock" \
    --module="$modules/iana-if-type@2014-05-08.yang" \
    --module="$modules/ietf-interfaces@2014-05-08.yang" \
    --log="$dir/netconfd.log" --log-level="${NETCONFD_LOG_LEVEL:-info}" \
    --max-sessions="${NETCONFD_MAX_SESSIONS:-1024}" \
    ${NETCONFD_EXTRA_ARGS:-} \
    >"$dir/netconfd.out" 2>&1 </dev/null &
  pid=$!
  echo $pid >"$dir/netconfd.pid"
  # Up to 30 s while it is alive: on a loaded machine loading its modules
  # has taken more than 5 s.
  for _ in $(seq 600); do
    [[ -S $dir/ncx.sock ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [[ -S $dir/ncx.sock ]] || {
    echo "netconfd did not start" >&2
    cat "$dir/netconfd.out" >&2
    tail -n 20 "$dir/netconfd.log" >&2 2>/dev/null
    exit 1
  }
fi

if [[ $what == all || $what == sshd ]]; then
  [[ -f $dir/host_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
  touch "$dir/authorized_keys"
  chmod 644 "$dir/authorized_keys"
  cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
StrictModes no
AuthorizedKeysFile $dir/authorized_keys
MaxStartups ${SSHD_MAX_STARTUPS:-200}
MaxSessions 200
Subsystem netconf "/usr/sbin/netconf-subsystem --ncxserver-sockname=$port@$dir/ncx.sock"
CONF
  rm -f "$dir/sshd.pid"
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  for _ in $(seq 100); do [[ -s $dir/sshd.pid ]] && break; sleep 0.05; done
  [[ -s $dir/sshd.pid ]] || { echo "sshd did not start" >&2; cat "$dir/sshd.log" >&2; exit 1; }
fi
