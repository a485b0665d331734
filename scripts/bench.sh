#!/usr/bin/env bash
# The benchmark of issue 6 (see BENCHMARKS.md): muster on SQLite (and on PostgreSQL when
# MUSTER_BENCH_POSTGRES_URL is set), the fixed-answer baseline, and with --peer an open SCIM
# server from PyPI, all driven by muster-bench on this machine over loopback only.
#
#   scripts/bench.sh [--smoke] [--peer] [-- MUSTER-BENCH-ARGS…]
#
#   --smoke   small sizes, a few seconds per target (CI)
#   --peer    also install (venv under target/bench) and measure PyPI scim2-server on gunicorn
#   -- …      extra arguments for every muster-bench run (e.g. -- --users 20000)
#
# Environment:
#   MUSTER_BENCH_POSTGRES_URL  postgres://user@127.0.0.1:5432/postgres: a database per run is
#                              created next to it and dropped at the end
#   MUSTER_BENCH_POSTGRES_SYNCHRONOUS_COMMIT
#                              synchronous_commit of that database; off comes close to
#                              SQLite's synchronous=NORMAL: a crash may lose the last commits
#                              (up to 3 x wal_writer_delay), never corrupts, and commits do not
#                              wait for a WAL flush
#   MUSTER_BENCH_SCALE_USERS   fill muster's tenant to this many users at the end (RSS at 1M)
#   MUSTER_BENCH_PEER_ARGS     sizes for the peer [default: --users 10000 --members 10000
#                              --groups 50 --probe 5 --removes 50; nothing extra with --smoke]
#   MUSTER_BENCH_PEER_SPEC     pip requirement of the peer [default: scim2-server==0.8.3]
#   MUSTER_BENCH_OUT           output directory [default: target/bench]
#   MUSTER_BENCH_PROFILE       release (default) or debug (CI smoke: checks the tool, not speed)
#
# Writes OUT/<target>.json per target and OUT/results.json (all of them, with machine facts),
# and prints the tables and a side-by-side comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
PEER=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --peer) PEER=1 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

OUT="${MUSTER_BENCH_OUT:-target/bench}"
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/muster-bench.XXXXXX")"
PIDS=()
PG_ADMIN=""
PG_DB=""

cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  if [ -n "$PG_DB" ]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (at most 60 s) for a line matching $2 in file $1 and prints the first http:// URL on it.
wait_url() {
  local file="$1" pattern="$2" pid="$3" line
  for _ in $(seq 1 600); do
    line="$(grep -m1 -- "$pattern" "$file" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      grep -o 'http://[^ ]*' <<<"$line" | head -n1
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "process $pid exited before printing '$pattern':" >&2
      cat "$file" "$file.err" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
  echo "timed out waiting for '$pattern' in $file" >&2
  return 1
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# MUSTER_BENCH_PROFILE=debug uses the debug build (CI's smoke run: it only checks that the tool and
# the workloads still work; its figures mean nothing).
PROFILE="${MUSTER_BENCH_PROFILE:-release}"
echo "== building ($PROFILE)" >&2
if [ "$PROFILE" = release ]; then
  cargo build --release -p muster -p muster-bench >&2
else
  cargo build -p muster -p muster-bench >&2
fi
MUSTER="$PWD/target/$PROFILE/muster"
BENCH="$PWD/target/$PROFILE/muster-bench"

SIZE_ARGS=()
[ "$SMOKE" = 1 ] && SIZE_ARGS+=(--smoke)
FILES=()

echo "== baseline (fixed ListResponse handler)" >&2
"$BENCH" baseline --listen 127.0.0.1:0 >"$WORK/baseline.out" 2>"$WORK/baseline.out.err" &
BASE_PID=$!
PIDS+=("$BASE_PID")
BASE_URL="$(wait_url "$WORK/baseline.out" "Baseline base URL:" "$BASE_PID")"

# run_muster LABEL STORE-ARGS…: a fresh muster with tenants 'bench' and 'sync', then every workload.
run_muster() {
  local label="$1"
  shift
  local store=("$@") token sync_token pid url scale=()
  "$MUSTER" "${store[@]}" tenant create bench >/dev/null
  "$MUSTER" "${store[@]}" tenant create sync >/dev/null
  token="$("$MUSTER" "${store[@]}" token create --tenant bench | tail -n1)"
  sync_token="$("$MUSTER" "${store[@]}" token create --tenant sync | tail -n1)"
  "$MUSTER" "${store[@]}" serve --listen 127.0.0.1:0 >"$WORK/$label.out" 2>"$WORK/$label.out.err" &
  pid=$!
  PIDS+=("$pid")
  url="$(wait_url "$WORK/$label.out" "SCIM base URL:" "$pid")"
  if [ -n "${MUSTER_BENCH_SCALE_USERS:-}" ] && [ "$SMOKE" = 0 ]; then
    scale=(--scale-users "$MUSTER_BENCH_SCALE_USERS")
  fi
  echo "== $label at $url (pid $pid)" >&2
  rm -f "$OUT/$label.json"
  "$BENCH" all --label "$label" --base-url "$url" --token "$token" \
    --sync-base-url "$url" --sync-token "$sync_token" \
    --baseline-url "$BASE_URL" --server-pid "$pid" --json "$OUT/$label.json" \
    "${SIZE_ARGS[@]}" "${scale[@]}" "${EXTRA[@]}" >"$OUT/$label.txt"
  stop "$pid"
  cp "$WORK/$label.out.err" "$OUT/$label.server.log" 2>/dev/null || true
  FILES+=("$OUT/$label.json")
}

run_muster muster-sqlite --data "$WORK/sqlite"

if [ -n "${MUSTER_BENCH_POSTGRES_URL:-}" ]; then
  PG_ADMIN="$MUSTER_BENCH_POSTGRES_URL"
  PG_DB="muster_bench_$$_$(date +%s)"
  psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
  if [ -n "${MUSTER_BENCH_POSTGRES_SYNCHRONOUS_COMMIT:-}" ]; then
    psql -q "$PG_ADMIN" -c "ALTER DATABASE \"$PG_DB\" SET synchronous_commit = '$MUSTER_BENCH_POSTGRES_SYNCHRONOUS_COMMIT'" >/dev/null
  fi
  case "$PG_ADMIN" in
    postgres://*/* | postgresql://*/*) pg_url="${PG_ADMIN%/*}/$PG_DB" ;;
    *) pg_url="${PG_ADMIN%/}/$PG_DB" ;;
  esac
  run_muster muster-postgres --database-url "$pg_url"
fi

if [ "$PEER" = 1 ]; then
  VENV="$PWD/target/bench/peer-venv"
  SPEC="${MUSTER_BENCH_PEER_SPEC:-scim2-server==0.8.3}"
  if [ ! -x "$VENV/bin/gunicorn" ] || [ ! -x "$VENV/bin/scim2-server" ]; then
    echo "== installing $SPEC and gunicorn into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "$SPEC" "gunicorn==27.0.1" >&2
  fi
  # The same application its own CLI (scim2-server --tenant bench --tenant sync --bearer-token …)
  # builds, served by gunicorn: one process (its store is in memory), threads, keep-alive, and a
  # listen backlog that does not drop connections (the CLI's wsgiref server has a backlog of 5).
  cat >"$WORK/peer_app.py" <<'PY'
import os, secrets
from scim2_models import ScimProvider
from scim2_server.applications.wsgi import TenantDispatcher
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import (load_default_resource_types, load_default_schemas,
                                load_default_service_provider_config)

config = load_default_service_provider_config()
config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
provider = ScimProvider.from_discovery(load_default_schemas().values(),
                                       load_default_resource_types().values(), config=config)
service = ScimService(provider, secret=secrets.token_urlsafe(32))
TOKEN = os.environ["PEER_TOKEN"]

def tenant(name):
    if name not in ("bench", "sync"):
        return None
    return BearerTokenApplication(InMemoryStorage(), provider, service=service, bearer_tokens=[TOKEN])

app = TenantDispatcher(tenant)
PY
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  PEER_TOKEN=peer-token "$VENV/bin/gunicorn" --chdir "$WORK" --bind "127.0.0.1:$port" --workers 1 \
    --worker-class gthread --threads 16 --backlog 2048 --keep-alive 60 --timeout 600 \
    --log-level warning peer_app:app >"$WORK/peer.out" 2>"$WORK/peer.out.err" &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/bench/v2/ServiceProviderConfig" && break
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/peer.out.err" >&2; exit 1; }
    sleep 0.2
  done
  # gunicorn's arbiter forks the worker that serves: measure that process (RSS, CPU).
  wpid="$(pgrep -P "$pid" | head -n1 || true)"
  peer_args=()
  if [ "$SMOKE" = 0 ]; then
    read -r -a peer_args <<<"${MUSTER_BENCH_PEER_ARGS:---users 10000 --members 10000 --groups 50 --probe 5 --removes 50}"
  fi
  echo "== scim2-server (gunicorn) at http://127.0.0.1:$port (worker pid ${wpid:-?})" >&2
  rm -f "$OUT/scim2-server.json"
  "$BENCH" all --label scim2-server --base-url "http://127.0.0.1:$port/bench/v2" --token peer-token \
    --sync-base-url "http://127.0.0.1:$port/sync/v2" --sync-token peer-token \
    --baseline-url "$BASE_URL" ${wpid:+--server-pid "$wpid"} --json "$OUT/scim2-server.json" \
    "${SIZE_ARGS[@]}" "${peer_args[@]}" "${EXTRA[@]}" >"$OUT/scim2-server.txt" || {
      echo "scim2-server run failed (see above); its results are left out" >&2
    }
  stop "$pid"
  if [ -f "$OUT/scim2-server.json" ]; then FILES+=("$OUT/scim2-server.json"); fi
fi

stop "$BASE_PID"
"$BENCH" report "${FILES[@]}" --json "$OUT/results.json" --fact "rustc=$(rustc -V)" \
  --fact "git=$(git describe --always --dirty 2>/dev/null || echo unknown)"
