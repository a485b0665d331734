#!/usr/bin/env bash
# Replays the "Try it with curl" session of each identity-provider setup guide
# (docs/idp/{entra,okta,pingone}.md) against a real `muster serve`, the way a new user would, and
# checks that the directory ends exactly as the guide's "Resulting directory state" says.
#
#   scripts/idp-guides.sh [MUSTER_BINARY]      (default: target/debug/muster of this checkout;
#                                               builds nothing)
#
# For each guide:
#   1. start `muster serve --listen 127.0.0.1:0` on a fresh temporary data directory and read the
#      port from its "SCIM base URL: http://127.0.0.1:PORT/api/scim/v2" line;
#   2. take the ```sh blocks under the guide's "Try it with curl" heading, verbatim, and run them
#      with `bash -euo pipefail`, with M (the muster binary), DATA (the data directory) and B (the
#      SCIM base URL) exported, in an empty working directory;
#   3. read the directory back over SCIM (curl; python3, standard library only): every user
#      (userName, active) and every group SCIM lists (displayName and its members' userNames);
#   4. compare it with the ```text block under the guide's "Resulting directory state" heading:
#        tenant <name>                      the tenant to read (once)
#        user <userName> active|inactive    one line per user
#        group <displayName>: <userName>, … one line per group (up to the first ':' is its name);
#                                           members in any order, nothing after ':' for none
#        # …                                a comment
#      Nothing else may be present.
# Prints one line per guide ("entra: ok", or what differed) and "N passed, N failed"; exits 1 if
# any guide failed, 2 on a usage error. Every request goes to 127.0.0.1: the guides' curl runs
# through a shim that refuses any other URL, and proxies are turned off.
# KEEP=1 keeps the temporary directory (logs, extracted blocks) and prints where it is.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GUIDES=(entra okta pingone)

M=${1:-$ROOT/target/debug/muster}
case $M in
/*) ;;
*) M=$PWD/$M ;;
esac
if [[ ! -x $M || -d $M ]]; then
  echo "idp-guides: no muster binary at $M (build it first: cargo build -p muster)" >&2
  exit 2
fi
for tool in curl python3; do
  command -v "$tool" >/dev/null || {
    echo "idp-guides: $tool is required" >&2
    exit 2
  }
done
REAL_CURL=$(command -v curl)

# The user's own settings stay out of the runs: no MUSTER_* variable (a database URL, a public URL
# that would change the printed base URL, …), no proxy; each run's working directory is empty, so
# no ./muster.toml is read either.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^MUSTER_')
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY='*' no_proxy='*'

TMP=$(mktemp -d "${TMPDIR:-/tmp}/idp-guides.XXXXXX")
SERVER= # the running `muster serve` (one at a time)
stop_server() {
  if [[ -n $SERVER ]]; then
    kill "$SERVER" 2>/dev/null
    wait "$SERVER" 2>/dev/null
    SERVER=
  fi
}
cleanup() {
  stop_server
  if [[ ${KEEP:-0} == 1 ]]; then
    echo "idp-guides: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# curl for the guides' blocks: the real curl, for http://127.0.0.1:… URLs only.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/curl" <<EOF
#!/usr/bin/env bash
for a in "\$@"; do
  if [[ \$a =~ ^[A-Za-z][A-Za-z0-9+.-]*:// && \$a != http://127.0.0.1:* ]]; then
    echo "idp-guides: refusing to send a request to \$a (only http://127.0.0.1:… is allowed)" >&2
    exit 97
  fi
done
exec "$REAL_CURL" --noproxy '*' "\$@"
EOF
chmod +x "$TMP/bin/curl"

# extract GUIDE.md OUT_DIR: writes steps.sh (the sh blocks under "Try it with curl") and
# expected.txt (the text block under "Resulting directory state").
extract() {
  python3 - "$1" "$2" <<'PY'
import re, sys
path, out = sys.argv[1], sys.argv[2]
lines = open(path, encoding="utf-8").read().split("\n")

def fences(start, end):
    """(info string, body) of each fenced block in lines[start:end]."""
    i = start
    while i < end:
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        yield m.group(1), "\n".join(lines[i + 1:j])
        i = j + 1

def section(title):
    """Line range of the section whose heading contains title, up to the next heading of the same
    or a higher level (headings inside fenced blocks do not count)."""
    fenced, start, level = False, None, None
    for n, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"^(#{1,6}) (.*)$", line)
        if not m:
            continue
        if start is not None and len(m.group(1)) <= level:
            return start, n
        if start is None and title.lower() in m.group(2).lower():
            start, level = n + 1, len(m.group(1))
    if start is None:
        sys.exit(f"no heading containing {title!r}")
    return start, len(lines)

s, e = section("Try it with curl")
steps = [body for info, body in fences(s, e) if info == "sh"]
if not steps:
    sys.exit("no ```sh block under 'Try it with curl'")
s, e = section("Resulting directory state")
state = [body for info, body in fences(s, e) if info == "text"]
if not state:
    sys.exit("no ```text block under 'Resulting directory state'")
open(f"{out}/steps.sh", "w", encoding="utf-8").write("\n\n".join(steps) + "\n")
open(f"{out}/expected.txt", "w", encoding="utf-8").write(state[0] + "\n")
PY
}

# fetch B TOKEN RESOURCE OUT_DIR: every page of GET $B/RESOURCE into OUT_DIR/RESOURCE.N.json.
fetch() {
  local b=$1 token=$2 res=$3 dir=$4 start=1 n=0 next
  while :; do
    n=$((n + 1))
    "$REAL_CURL" --noproxy '*' -sS -f -G "$b/$res" -H "Authorization: Bearer $token" \
      --data-urlencode "startIndex=$start" --data-urlencode count=100 \
      -o "$dir/$res.$n.json" || return 1
    next=$(python3 -c '
import json, sys
page = json.load(open(sys.argv[1]))
got = len(page.get("Resources", []))
end = page["startIndex"] + got
print(end if got and end <= page["totalResults"] else "")' "$dir/$res.$n.json") || return 1
    [[ -n $next ]] || return 0
    start=$next
  done
}

# state B TOKEN DIR: the directory as state lines (users, then groups), from the fetched pages;
# each group is read by id as well, for its members.
state() {
  local b=$1 token=$2 dir=$3 id
  fetch "$b" "$token" Users "$dir" && fetch "$b" "$token" Groups "$dir" || return 1
  for id in $(python3 -c '
import glob, json
for f in sorted(glob.glob("'"$dir"'/Groups.*.json")):
    for g in json.load(open(f)).get("Resources", []):
        print(g["id"])'); do
    "$REAL_CURL" --noproxy '*' -sS -f "$b/Groups/$id" -H "Authorization: Bearer $token" \
      -o "$dir/group-$id.json" || return 1
  done
  python3 - "$dir" <<'PY'
import glob, json, sys
d = sys.argv[1]
users = {}
for f in sorted(glob.glob(f"{d}/Users.*.json")):
    for u in json.load(open(f)).get("Resources", []):
        users[u["id"]] = u
groups = {}
for f in sorted(glob.glob(f"{d}/group-*.json")):
    g = json.load(open(f))
    groups[g["id"]] = g
for u in users.values():
    print(f'user {u["userName"]} {"active" if u.get("active", True) else "inactive"}')
for g in groups.values():
    names = []
    for m in g.get("members") or []:
        v = m.get("value")
        if v in users:
            names.append(users[v]["userName"])
        elif v in groups:
            names.append("group:" + groups[v]["displayName"])
        else:
            names.append("unknown:" + str(v))
    print(f'group {g["displayName"]}: {", ".join(sorted(names))}')
PY
}

# normalize FILE: the state lines of FILE, canonical (members sorted, spaces collapsed), sorted.
normalize() {
  python3 - "$1" <<'PY'
import re, sys
out = []
for line in open(sys.argv[1], encoding="utf-8"):
    line = re.sub(r"\s+", " ", line).strip()
    if not line or line.startswith("#") or line.startswith("tenant "):
        continue
    if line.startswith("group ") and ":" in line:
        name, _, members = line.partition(":")
        members = sorted(m.strip() for m in members.split(",") if m.strip())
        line = f"{name.strip()}: {', '.join(members)}".rstrip()
    out.append(line)
print("\n".join(sorted(out)))
PY
}

# run_guide NAME: prints "NAME: ok" or "NAME: <what differed>"; returns non-zero on failure.
run_guide() {
  local name=$1 doc=$ROOT/docs/idp/$1.md dir=$TMP/$1 port b tenant token i rc
  mkdir -p "$dir/work"
  fail() {
    echo "$name: $1"
    shift
    local a l
    for a in "$@"; do
      while IFS= read -r l; do [[ -n $l ]] && echo "    $l"; done <<<"$a"
    done
    stop_server
    return 1
  }
  local err
  if ! err=$(extract "$doc" "$dir" 2>&1); then
    fail "cannot read the guide $doc: $err"
    return 1
  fi
  tenant=$(sed -n 's/^[[:space:]]*tenant[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$dir/expected.txt" | head -1)
  [[ -n $tenant ]] || { fail "the 'Resulting directory state' block names no tenant (a 'tenant NAME' line)"; return 1; }

  (cd "$dir/work" && exec "$M" serve --listen 127.0.0.1:0 --data "$dir/data" \
    >"$dir/serve.out" 2>"$dir/serve.err" </dev/null) &
  SERVER=$!
  port=
  for ((i = 0; i < 150; i++)); do
    port=$(sed -n 's|^SCIM base URL: http://127\.0\.0\.1:\([0-9]\{1,5\}\)/api/scim/v2$|\1|p' "$dir/serve.out" 2>/dev/null)
    [[ -n $port ]] && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $port ]] || { fail "muster serve did not start" "$(tail -n 5 "$dir/serve.err")"; return 1; }
  b=http://127.0.0.1:$port/api/scim/v2

  (cd "$dir/work" && PATH="$TMP/bin:$PATH" M="$M" DATA="$dir/data" B="$b" \
    bash -euo pipefail "$dir/steps.sh" >"$dir/steps.log" 2>&1 </dev/null)
  rc=$?
  if ((rc != 0)); then
    fail "the guide's commands failed (exit $rc); last lines of their output:" \
      "$(tail -n 8 "$dir/steps.log" | cut -c1-300)"
    return 1
  fi
  kill -0 "$SERVER" 2>/dev/null || { fail "muster serve exited during the guide's commands" "$(tail -n 5 "$dir/serve.err")"; return 1; }

  token=$("$M" token create --tenant "$tenant" --data "$dir/data" 2>/dev/null | tail -n 1)
  [[ $token == mst_* ]] || { fail "cannot create a token to read tenant '$tenant'"; return 1; }
  mkdir -p "$dir/read"
  if ! state "$b" "$token" "$dir/read" >"$dir/actual.txt" 2>"$dir/read.err"; then
    fail "cannot read the directory over SCIM" "$(tail -n 3 "$dir/read.err")"
    return 1
  fi
  stop_server

  normalize "$dir/expected.txt" >"$dir/expected.norm"
  normalize "$dir/actual.txt" >"$dir/actual.norm"
  if cmp -s "$dir/expected.norm" "$dir/actual.norm"; then
    echo "$name: ok"
    return 0
  fi
  local diffs=()
  while IFS= read -r l; do diffs+=("missing:    $l"); done < <(LC_ALL=C comm -23 "$dir/expected.norm" "$dir/actual.norm")
  while IFS= read -r l; do diffs+=("unexpected: $l"); done < <(LC_ALL=C comm -13 "$dir/expected.norm" "$dir/actual.norm")
  fail "the directory differs from the guide's 'Resulting directory state'" "${diffs[@]}"
}

passed=0
failed=0
for g in "${GUIDES[@]}"; do
  if run_guide "$g"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
