#!/usr/bin/env bash
# Sourced by scripts/test and scripts/bench-postgres: a throwaway PostgreSQL cluster for one run.
#
#   postgres_cluster_start [setting=value ...]   initdb into a temporary folder, pg_ctl on a free port of
#                                               127.0.0.1 only; exports FACTPIPE_TEST_POSTGRES_URL. Returns 1
#                                               (with a reason on stderr) when it cannot start. With ssl=on
#                                               it also makes a self-signed certificate for 127.0.0.1,
#                                               `server.crt` in the folder (for a client's sslrootcert).
#   postgres_cluster_stop                       stops it (immediate) and removes the folder; safe to call twice.
#   postgres_cluster_server_stop [folder]       stops the server at once (`pg_ctl stop -m immediate`, as a
#                                               crash would), keeping the folder;
#   postgres_cluster_server_start [folder]      starts it again, on the same port with the same settings.
#
# Run as a command, it manages a private cluster for a test that stops and starts its own server:
#
#   scripts/postgres-cluster.sh start [setting=value ...]   starts one (left running) and prints
#                                                           `url=…` and `folder=…` lines;
#   scripts/postgres-cluster.sh stop-server FOLDER          stops its server at once, keeping its data;
#   scripts/postgres-cluster.sh start-server FOLDER         starts it again;
#   scripts/postgres-cluster.sh remove FOLDER               stops it and removes the folder.
#
# As root, initdb and pg_ctl refuse to run: they run as the `postgres` user, in a folder it owns.

postgres_cluster_dir=""
postgres_cluster_bin=""

postgres_cluster_find_bin() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

postgres_cluster_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a server binary as the cluster's owner.
postgres_cluster_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

postgres_cluster_start() {
  postgres_cluster_bin=$(postgres_cluster_find_bin) || {
    echo "postgres cluster: no initdb/pg_ctl found (scripts/setup installs Debian's postgresql)" >&2
    return 1
  }
  postgres_cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/factpipe-postgres.XXXXXX") || return 1
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "postgres cluster: running as root needs the postgres user" >&2; return 1; }
    chown postgres: "$postgres_cluster_dir"
  fi
  chmod 700 "$postgres_cluster_dir"
  local data="$postgres_cluster_dir/data" log="$postgres_cluster_dir/server.log" port options setting
  if ! postgres_cluster_as_owner "$postgres_cluster_bin/initdb" -D "$data" -U postgres -A trust -E UTF8 \
      --locale=C.UTF-8 >"$postgres_cluster_dir/initdb.log" 2>&1; then
    echo "postgres cluster: initdb failed:" >&2
    cat "$postgres_cluster_dir/initdb.log" >&2
    return 1
  fi
  # Every role is trusted from 127.0.0.1 but two: one must give its password (the tests of a wrong
  # password create it, FACTPIPE_TEST_POSTGRES_PASSWORD_ROLE), one must come over TLS (the TLS tests).
  local hba="$data/pg_hba.conf"
  { echo "host all factpipe_password_test 127.0.0.1/32 scram-sha-256"
    echo "hostssl all factpipe_tls_test 127.0.0.1/32 trust"
    echo "host all factpipe_tls_test 127.0.0.1/32 reject"
    cat "$hba"; } >"$hba.new"
  cat "$hba.new" >"$hba" && rm -f "$hba.new"
  port=$(postgres_cluster_free_port) || return 1
  options="-c listen_addresses=127.0.0.1 -p $port -k $postgres_cluster_dir -c fsync=off -c full_page_writes=off"
  for setting in "$@"; do
    options="$options -c $setting"
    if [ "$setting" = "ssl=on" ]; then
      if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
          -addext subjectAltName=IP:127.0.0.1 -keyout "$data/server.key" -out "$data/server.crt" \
          >"$postgres_cluster_dir/openssl.log" 2>&1; then
        echo "postgres cluster: openssl could not make a certificate:" >&2
        cat "$postgres_cluster_dir/openssl.log" >&2
        return 1
      fi
      cp "$data/server.crt" "$postgres_cluster_dir/server.crt"
      chmod 644 "$postgres_cluster_dir/server.crt"
      chmod 600 "$data/server.key"
      [ "$(id -u)" -eq 0 ] && chown postgres: "$data/server.key" "$data/server.crt"
      options="$options -c ssl_cert_file=$data/server.crt -c ssl_key_file=$data/server.key"
    fi
  done
  # Kept for postgres_cluster_server_start, which starts the server again as it was.
  printf '%s\n' "$options" >"$postgres_cluster_dir/options"
  printf '%s\n' "$postgres_cluster_bin" >"$postgres_cluster_dir/bin"
  postgres_cluster_server_start "$postgres_cluster_dir" || return 1
  export FACTPIPE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  export FACTPIPE_TEST_POSTGRES_PASSWORD_ROLE=factpipe_password_test
  export FACTPIPE_TEST_POSTGRES_BIN="$postgres_cluster_bin"
  export FACTPIPE_TEST_POSTGRES_DATA="$data"
  echo "postgres cluster: running on 127.0.0.1:$port ($data)" >&2
}

postgres_cluster_server_start() {
  local folder=${1:-$postgres_cluster_dir} bin options
  bin=$(cat "$folder/bin") && options=$(cat "$folder/options") || return 1
  # The server gets no descriptor of this shell's but 0-2: one its caller waits on to see this command
  # end (as a test runner's process monitor does) would otherwise stay open as long as the server runs.
  if ! (postgres_cluster_close_descriptors
        postgres_cluster_as_owner "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
          -o "$options" start >/dev/null 2>&1); then
    echo "postgres cluster: pg_ctl start failed:" >&2
    cat "$folder/server.log" >&2 2>/dev/null
    return 1
  fi
}

# Closes every descriptor above 2 of the current (sub)shell.
postgres_cluster_close_descriptors() {
  local fd
  for fd in $(ls /proc/$BASHPID/fd 2>/dev/null || seq 3 63); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

postgres_cluster_server_stop() {
  local folder=${1:-$postgres_cluster_dir}
  if [ -f "$folder/data/postmaster.pid" ]; then
    postgres_cluster_as_owner "$(cat "$folder/bin")/pg_ctl" -D "$folder/data" -m immediate stop >/dev/null 2>&1
  fi
}

postgres_cluster_stop() {
  if [ -n "$postgres_cluster_dir" ] && [ -d "$postgres_cluster_dir" ]; then
    if [ -f "$postgres_cluster_dir/data/postmaster.pid" ]; then
      postgres_cluster_as_owner "$postgres_cluster_bin/pg_ctl" -D "$postgres_cluster_dir/data" -m immediate \
        stop >/dev/null 2>&1 || true
    fi
    rm -rf "$postgres_cluster_dir"
  fi
  postgres_cluster_dir=""
}

# Run as a command (not sourced): manage a private cluster (see the top of this file).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  command=${1:-}
  [ $# -gt 0 ] && shift
  case "$command" in
    start)
      postgres_cluster_start "$@"
      echo "url=$FACTPIPE_TEST_POSTGRES_URL"
      echo "folder=$postgres_cluster_dir"
      ;;
    stop-server) postgres_cluster_server_stop "$1" ;;
    start-server) postgres_cluster_server_start "$1" ;;
    remove)
      case "$1" in */factpipe-postgres.*) ;; *) echo "postgres cluster: not a cluster folder: $1" >&2; exit 64 ;; esac
      postgres_cluster_dir=$1 postgres_cluster_bin=$(cat "$1/bin")
      postgres_cluster_stop
      ;;
    *)
      echo "usage: $0 start [setting=value ...] | stop-server FOLDER | start-server FOLDER | remove FOLDER" >&2
      exit 64
      ;;
  esac
fi
