#!/usr/bin/env bash
# Run the public SCIM conformance checkers against a live muster server (for CI and by hand).
#
# usage: scripts/conformance.sh [MUSTER_BIN]
#   MUSTER_BIN  the muster binary (default: $MUSTER_BIN, else target/release/muster if it exists,
#               else target/debug/muster)
#
# Starts `muster serve --listen 127.0.0.1:0` on a temporary data dir, creates one fresh tenant and
# token per suite (the suites assume an empty tenant), runs
#   ext           ../shared/conformance/run.sh: microsoft-postman, okta-spec, okta-crud
#   scim2-tester  PyPI scim2-tester (Python API, scripts/conformance/scim2_tester_run.py)
#   scim-sanity   PyPI scim-sanity (`scim-sanity probe`)
# and compares every failed check with scripts/conformance/expected-failures.txt.
# Exit: 0 = no unexpected failure; 1 = unexpected failure(s); 2 = could not run (setup error).
# See docs/conformance.md.
#
# env: MUSTER_BIN, CONFORMANCE_VENV (default <repo>/.venv-conformance), CONFORMANCE_LOG_DIR (default: new
#      /tmp/muster-conformance.* dir), CONFORMANCE_EXPECTED (default scripts/conformance/expected-failures.txt),
#      CONFORMANCE_SUITES (default "ext scim2-tester scim-sanity"), CONFORMANCE_SHARED (default
#      <repo>/../shared/conformance), EXT_SUITES_DIR (newman install dir, default /tmp/ext-suites),
#      CONFORMANCE_START_TIMEOUT (s, default 30), CONFORMANCE_SUITE_TIMEOUT (s per suite, default 600),
#      CONFORMANCE_VERBOSE=1 (also list warnings), CONFORMANCE_KEEP_DATA=1 (keep the data dir), PYTHON.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$REPO/scripts/conformance"
SHARED="${CONFORMANCE_SHARED:-$REPO/../shared/conformance}"
PY="${PYTHON:-python3}"
VENV="${CONFORMANCE_VENV:-$REPO/.venv-conformance}"
EXPECTED="${CONFORMANCE_EXPECTED:-$HERE/expected-failures.txt}"
SUITES="${CONFORMANCE_SUITES:-ext scim2-tester scim-sanity}"
START_TIMEOUT="${CONFORMANCE_START_TIMEOUT:-30}"
SUITE_TIMEOUT="${CONFORMANCE_SUITE_TIMEOUT:-600}"
EXT_DIR="${EXT_SUITES_DIR:-/tmp/ext-suites}"
export PYTHONDONTWRITEBYTECODE=1   # keep scripts/conformance/ free of __pycache__
NEWMAN_VERSION="6.2.2"

die() { echo "conformance: error: $*" >&2; exit 2; }
note() { echo "[conformance $(date +%H:%M:%S)] $*"; }

MUSTER="${1:-${MUSTER_BIN:-}}"
if [ -z "$MUSTER" ]; then
  if [ -x "$REPO/target/release/muster" ]; then MUSTER="$REPO/target/release/muster"
  else MUSTER="$REPO/target/debug/muster"; fi
fi
[ -x "$MUSTER" ] || die "muster binary not found or not executable: $MUSTER (build it, or pass its path)"
[ -d "$SHARED" ] || die "shared conformance material not found: $SHARED"
command -v "$PY" >/dev/null || die "$PY not found"

LOG="${CONFORMANCE_LOG_DIR:-$(mktemp -d /tmp/muster-conformance.XXXXXX)}"
mkdir -p "$LOG"
DATA="$(mktemp -d /tmp/muster-conformance-data.XXXXXX)"
SERVER_PID=""

CHILD=""   # the long-running step in progress (a `timeout` process), stopped on exit too
# shellcheck disable=SC2317  # (invoked by the EXIT trap)
cleanup() {
  local rc=$?
  trap - INT TERM
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true   # timeout(1) passes it on to the step's process group
    for _ in $(seq 1 50); do kill -0 "$CHILD" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CHILD" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "conformance: server did not stop within 5 s of SIGTERM; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -z "${CONFORMANCE_KEEP_DATA:-}" ]; then rm -rf "$DATA"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_timed SECONDS OUT ERR CMD...: run CMD with a time limit, in the background so that a signal to
# this script is handled at once (bash defers traps while a foreground child runs); sets RC.
run_timed() {
  local secs="$1" out="$2" err="$3"; shift 3
  RC=0
  timeout -k 10 "$secs" "$@" >"$out" 2>"$err" </dev/null &
  CHILD=$!
  wait "$CHILD" || RC=$?
  CHILD=""
}

wants() { case " $SUITES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

note "muster: $MUSTER"
note "logs:   $LOG"

# ---------------------------------------------------------------- tools (before the server starts)
if wants scim2-tester || wants scim-sanity; then
  stamp="$VENV/.muster-conformance-requirements.txt"
  if [ -x "$VENV/bin/python" ] && cmp -s "$HERE/requirements.txt" "$stamp"; then
    note "venv $VENV is up to date"
  else
    note "installing checkers into $VENV (scripts/conformance/requirements.txt)"
    if [ ! -x "$VENV/bin/python" ]; then
      run_timed 300 "$LOG/venv.log" "$LOG/venv.log" "$PY" -m venv "$VENV"
      [ "$RC" -eq 0 ] || { tail -n 5 "$LOG/venv.log" >&2; die "could not create venv $VENV (python3-venv missing?)"; }
    fi
    run_timed 900 "$LOG/pip.log" "$LOG/pip.err" "$VENV/bin/python" -m pip install \
      --disable-pip-version-check --no-input --timeout 60 --retries 3 -r "$HERE/requirements.txt"
    if [ "$RC" -ne 0 ]; then
      tail -n 15 "$LOG/pip.log" "$LOG/pip.err" >&2; die "pip install failed (exit $RC; logs: $LOG/pip.*)"
    fi
    cp "$HERE/requirements.txt" "$stamp"
  fi
fi

if wants ext; then
  NEWMAN="${NEWMAN:-$EXT_DIR/node_modules/.bin/newman}"
  if [ ! -x "$NEWMAN" ]; then
    if command -v npm >/dev/null; then
      note "installing newman@$NEWMAN_VERSION into $EXT_DIR"
      mkdir -p "$EXT_DIR"
      run_timed 600 "$LOG/npm.log" "$LOG/npm.err" npm install --prefix "$EXT_DIR" --no-audit --no-fund \
        --no-save "newman@$NEWMAN_VERSION"
      [ "$RC" -eq 0 ] || { tail -n 10 "$LOG/npm.err" >&2; echo "conformance: npm install newman failed (exit $RC)" >&2; }
    else
      echo "conformance: npm not found: the Microsoft collection cannot run" >&2
    fi
  fi
  export NEWMAN
fi

# ---------------------------------------------------------------- server
note "starting: muster serve --listen 127.0.0.1:0 --data $DATA"
"$MUSTER" serve --listen 127.0.0.1:0 --data "$DATA" >"$LOG/server.stdout" 2>"$LOG/server.stderr" </dev/null &
SERVER_PID=$!
BASE=""
deadline=$((SECONDS + START_TIMEOUT))
while :; do
  BASE="$(sed -n 's#.*SCIM base URL: \(https\{0,1\}://[^[:space:]]*\).*#\1#p' "$LOG/server.stdout" | head -n1)"
  [ -n "$BASE" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    tail -n 20 "$LOG/server.stdout" "$LOG/server.stderr" >&2 || true
    SERVER_PID=""; die "muster serve exited before printing 'SCIM base URL: ...'"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 20 "$LOG/server.stdout" "$LOG/server.stderr" >&2 || true
    die "no 'SCIM base URL: ...' line from muster serve within ${START_TIMEOUT}s"
  fi
  sleep 0.2
done
BASE="${BASE%/}"
note "server pid $SERVER_PID, base URL $BASE"

# new_token SUITE: create tenant conf-SUITE and a token for it; sets TOKEN
new_token() {
  local tenant="conf-$1" out
  timeout 30 "$MUSTER" tenant create "$tenant" --data "$DATA" >>"$LOG/cli.log" 2>&1 \
    || { tail -n 5 "$LOG/cli.log" >&2; die "muster tenant create $tenant failed"; }
  # The suites are generic RFC 7644 clients: userNames that are not email addresses (rule 11),
  # and they expect a deactivated user to stay, inactive (rule 1's `suspend`, the RFC behaviour).
  timeout 30 "$MUSTER" tenant set "$tenant" --require-email-username false --deactivate suspend --data "$DATA" >>"$LOG/cli.log" 2>&1 \
    || { tail -n 5 "$LOG/cli.log" >&2; die "muster tenant set $tenant failed"; }
  out="$(timeout 30 "$MUSTER" token create --tenant "$tenant" --data "$DATA" 2>>"$LOG/cli.log")" \
    || { tail -n 5 "$LOG/cli.log" >&2; die "muster token create --tenant $tenant failed"; }
  TOKEN="$(printf '%s\n' "$out" | sed '/^[[:space:]]*$/d' | tail -n1 | tr -d '[:space:]')"
  [ -n "$TOKEN" ] || die "muster token create --tenant $tenant printed no token"
  echo "tenant $tenant: token created" >>"$LOG/cli.log"
}

# missing SUITE WHY: record that a suite produced no usable result
missing() { "$PY" "$HERE/results.py" missing "$1" "$2" >>"$LOG/$1.tsv"; }

RESULTS=()
suite_done() { note "$1 finished in $(( SECONDS - $2 ))s (exit $3)"; }

# ---------------------------------------------------------------- suites
if wants ext; then
  new_token ext
  note "ext: $SHARED/run.sh (microsoft-postman, okta-spec, okta-crud)"
  rm -rf "$LOG/ext"; mkdir -p "$LOG/ext"
  t0=$SECONDS
  EXT_LOG_DIR="$LOG/ext" EXT_SUITES_DIR="$EXT_DIR" PYTHON="$PY" \
    run_timed "$SUITE_TIMEOUT" "$LOG/ext-run.txt" "$LOG/ext-run.err" bash "$SHARED/run.sh" "$BASE" "$TOKEN"
  suite_done ext "$t0" "$RC"   # run.sh exits 1 when any check failed
  : >"$LOG/ext.tsv"
  [ "$RC" -le 1 ] || missing ext "run.sh exit $RC (124 = timeout after ${SUITE_TIMEOUT}s); see $LOG/ext-run.*"
  "$PY" "$HERE/results.py" ext "$LOG/ext" "$SHARED" >>"$LOG/ext.tsv" \
    || missing ext "could not parse the logs in $LOG/ext"
  RESULTS+=("$LOG/ext.tsv")
fi

if wants scim2-tester; then
  new_token scim2-tester
  note "scim2-tester: check_server()"
  t0=$SECONDS
  : >"$LOG/scim2-tester.tsv"
  run_timed "$SUITE_TIMEOUT" "$LOG/scim2-tester.stdout" "$LOG/scim2-tester.stderr" "$VENV/bin/python" \
    "$HERE/scim2_tester_run.py" "$BASE" "$TOKEN" "$LOG/scim2-tester.tsv" --log "$LOG/scim2-tester.txt"
  suite_done scim2-tester "$t0" "$RC"
  [ "$RC" -eq 0 ] || missing scim2-tester "scim2_tester_run.py exit $RC (124 = timeout); see $LOG/scim2-tester.stderr"
  RESULTS+=("$LOG/scim2-tester.tsv")
fi

if wants scim-sanity; then
  new_token scim-sanity
  note "scim-sanity: probe (strict mode)"
  t0=$SECONDS
  : >"$LOG/scim-sanity.tsv"
  run_timed "$SUITE_TIMEOUT" "$LOG/scim-sanity.json" "$LOG/scim-sanity.stderr" "$VENV/bin/scim-sanity" probe \
    "$BASE" --token "$TOKEN" --i-accept-side-effects --json-output --timeout 30
  suite_done scim-sanity "$t0" "$RC"   # exit 1 just means some check failed
  [ "$RC" -le 1 ] || missing scim-sanity "scim-sanity probe exit $RC (124 = timeout); see $LOG/scim-sanity.stderr"
  "$PY" "$HERE/results.py" sanity "$LOG/scim-sanity.json" >>"$LOG/scim-sanity.tsv" \
    || missing scim-sanity "could not parse $LOG/scim-sanity.json"
  RESULTS+=("$LOG/scim-sanity.tsv")
fi

[ "${#RESULTS[@]}" -gt 0 ] || die "no suite selected (CONFORMANCE_SUITES='$SUITES')"
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "conformance: WARNING: muster serve is no longer running (crashed during the suites?)" >&2
  tail -n 20 "$LOG/server.stderr" >&2 || true
fi

# ---------------------------------------------------------------- verdict
echo "conformance logs: $LOG"
echo
rc=0
"$PY" "$HERE/results.py" compare --expected "$EXPECTED" ${CONFORMANCE_VERBOSE:+-v} "${RESULTS[@]}" || rc=$?
exit "$rc"
