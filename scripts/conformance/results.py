#!/usr/bin/env python3
"""Normalise the conformance suites' outputs and compare them with the expected-failures list.

Standard library only (runs with any python3 >= 3.8).

Every suite is turned into records, one per line, tab separated:

    suite <TAB> status <TAB> check name <TAB> detail

status is one of ok, fail, warn (counts as ok, printed as a note), skip. A check is identified by
(suite, check name); names are built so that they are stable from run to run (no generated ids,
no random values), and they are exactly what goes into expected-failures.txt.

Subcommands:
    ext LOGDIR SHARED_CONFORMANCE_DIR     parse the logs of shared/conformance/run.sh (EXT_LOG_DIR)
    sanity JSON_FILE                      parse `scim-sanity probe --json-output`
    missing SUITE WHY                     one failing record: the suite produced no result at all
    compare --expected FILE RESULTS...    print the summary; exit 1 on any unexpected failure
"""
import argparse
import collections
import json
import os
import re
import sys

STATUSES = ("ok", "fail", "warn", "skip")


def clean(text, limit=300):
    """One line, no tabs, bounded length."""
    text = re.sub(r"\s+", " ", str(text if text is not None else "")).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def emit(out, suite, status, name, detail=""):
    assert status in STATUSES, status
    out.write(f"{suite}\t{status}\t{clean(name, 500)}\t{clean(detail)}\n")


def numbered(names):
    """Append ' #k' to names that occur more than once (k = 1-based occurrence, in run order)."""
    total = collections.Counter(names)
    seen = collections.Counter()
    res = []
    for n in names:
        seen[n] += 1
        res.append(f"{n} #{seen[n]}" if total[n] > 1 else n)
    return res


# --------------------------------------------------------------------------- shared/conformance/run.sh

def result_line(path):
    """The sub-runner's own 'N passed, M failed' line, as (passed, failed), or None."""
    if not os.path.exists(path):
        return None
    last = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(\d+) passed, (\d+) failed", line)
            if m:
                last = (int(m.group(1)), int(m.group(2)))
    return last


def parse_microsoft(logdir, out):
    """Microsoft Postman collection: one check per pm.test, from newman's JSON report.

    Mirrors the counting of shared/conformance/microsoft/run_newman.py: a test or pre-request script
    that throws outside pm.test is one failed check ('<request> / testScript error').
    Name: '<request name>[ #k] / <pm.test name>[ #k]' (#k only for names the collection repeats).
    """
    suite = "microsoft-postman"
    rep_path = os.path.join(logdir, "newman-report.json")
    txt = os.path.join(logdir, f"{suite}.txt")
    if not os.path.exists(rep_path):
        why = "no newman report"
        if os.path.exists(txt):
            with open(txt, encoding="utf-8", errors="replace") as f:
                tail = f.read()[-400:]
            why += f"; log tail: {tail}"
        elif not os.path.exists(txt):
            why += " and no log (newman not available? see run.sh output)"
        emit(out, suite, "fail", "(suite did not run)", why)
        return
    with open(rep_path, encoding="utf-8") as f:
        rep = json.load(f)
    execs = rep.get("run", {}).get("executions", [])
    req_names = numbered([ex.get("item", {}).get("name", "?") for ex in execs])
    n_ok = n_bad = 0
    for rname, ex in zip(req_names, execs):
        code = (ex.get("response") or {}).get("code", "ERR")
        asserts = ex.get("assertions") or []
        a_names = numbered([a.get("assertion", "?") for a in asserts])
        for aname, a in zip(a_names, asserts):
            err = a.get("error")
            status = "fail" if err else "ok"
            n_ok += not err
            n_bad += bool(err)
            emit(out, suite, status, f"{rname} / {aname}",
                 f"HTTP {code}: {err.get('message')}" if err else "")
        if ex.get("requestError"):
            n_bad += 1
            emit(out, suite, "fail", f"{rname} / request error", ex["requestError"].get("message"))
        for scr in ("testScript", "prerequestScript"):
            for s in ex.get(scr) or []:
                if s.get("error"):
                    n_bad += 1
                    e = s["error"]
                    emit(out, suite, "fail", f"{rname} / {scr} error",
                         f"HTTP {code}: {e.get('name')}: {e.get('message')}")
    own = result_line(txt)
    if own is not None and own != (n_ok, n_bad):
        emit(out, suite, "fail", "(result count mismatch)",
             f"run_newman.py counted {own[0]} ok / {own[1]} failing, parsed {n_ok} / {n_bad}")


def parse_okta(logdir, shared, suite, suite_file, out):
    """Okta Runscope suites: one check per request step, as counted by okta/runscope_run.py.

    Name: '[step index] <step note as written in the suite file>' (the printed label has the random
    user names substituted in; the raw note from the suite file is stable).
    """
    txt = os.path.join(logdir, f"{suite}.txt")
    if not os.path.exists(txt):
        emit(out, suite, "fail", "(suite did not run)", f"no log {txt}")
        return
    with open(os.path.join(shared, "okta", suite_file), encoding="utf-8") as f:
        steps = json.load(f).get("steps", [])

    def step_name(idx):
        note = steps[idx].get("note") if 0 <= idx < len(steps) else None
        return f"[{idx}] {clean(note or '(no note)', 200)}"

    current = None  # (status, name, first line, detail lines)
    records = []
    with open(txt, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(PASS|FAIL|SKIP)  \[(\d+)\]", line)
            if m:
                tag, idx = m.group(1), int(m.group(2))
                current = [{"PASS": "ok", "FAIL": "fail", "SKIP": "skip"}[tag], step_name(idx), line, []]
                records.append(current)
                continue
            if current and line.startswith("        ") and current[0] == "fail":
                current[3].append(line.strip())
            elif not line.startswith("        "):
                current = None
    for status, name, first, details in records:
        m = re.search(r"\(([A-Z]+ .*)\)\s*$", first)
        detail = (m.group(1) if m else "") + ("; " + "; ".join(details) if details else "")
        if status == "skip":
            detail = first.split(":", 1)[1].strip() if ":" in first else ""
        emit(out, suite, status, name, detail)
    own = result_line(txt)
    n_ok = sum(r[0] == "ok" for r in records)
    n_bad = sum(r[0] == "fail" for r in records)
    if own is None:
        with open(txt, encoding="utf-8", errors="replace") as f:
            tail = f.read()[-400:]
        emit(out, suite, "fail", "(suite did not finish)", f"no result line; log tail: {tail}")
    elif own != (n_ok, n_bad):
        emit(out, suite, "fail", "(result count mismatch)",
             f"runscope_run.py counted {own[0]} ok / {own[1]} failing, parsed {n_ok} / {n_bad}")


def cmd_ext(args, out):
    parse_microsoft(args.logdir, out)
    parse_okta(args.logdir, args.shared, "okta-spec", "Okta-SCIM-20-SPEC-Test.json", out)
    parse_okta(args.logdir, args.shared, "okta-crud", "Okta-SCIM-20-CRUD-Test.json", out)


# --------------------------------------------------------------------------- scim-sanity

ID_IN_PATH = re.compile(r"(/(?:Users|Groups|Agents|AgenticApplications|[A-Za-z]+))/[^/\s?]+$")


def cmd_sanity(args, out):
    """scim-sanity probe --json-output: one check per result name (ids in cleanup names -> {id}).

    pass -> ok; fail/error -> fail; warn -> warn (scim-sanity adds WARN records next to the PASS/FAIL
    record of the same name); skip -> skip.
    """
    suite = "scim-sanity"
    try:
        with open(args.json_file, encoding="utf-8") as f:
            data = json.load(f)
        results = data["results"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        emit(out, suite, "fail", "(suite did not run)", f"no JSON results in {args.json_file}: {exc}")
        return
    mapping = {"pass": "ok", "fail": "fail", "error": "fail", "warn": "warn", "skip": "skip"}
    for r in results:
        name = r.get("name", "?")
        if (r.get("phase") or "").startswith("Cleanup"):
            name = "cleanup " + ID_IN_PATH.sub(r"\1/{id}", name)
        emit(out, suite, mapping.get(r.get("status"), "fail"), name, r.get("message", ""))


def cmd_missing(args, out):
    emit(out, args.suite, "fail", "(suite did not run)", args.why)


# --------------------------------------------------------------------------- compare

def load_expected(path):
    """expected-failures.txt: 'suite<TAB>check name<TAB>reason' lines; '#' comments; blank lines."""
    expected = collections.OrderedDict()
    problems = []
    if not path or not os.path.exists(path):
        return expected, problems
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
                problems.append(f"{path}:{n}: not 'suite<TAB>check name<TAB>reason': {line!r}")
                continue
            reason = parts[2].strip() if len(parts) > 2 else ""
            if not reason:
                problems.append(f"{path}:{n}: entry without a reason")
            expected[(parts[0].strip(), parts[1].strip())] = reason
    return expected, problems


def cmd_compare(args):
    checks = collections.OrderedDict()  # (suite, name) -> {"status": set, "detail": [..]}
    suites = []
    for path in args.results:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 3:
                    continue
                suite, status, name = parts[0], parts[1], parts[2]
                detail = parts[3] if len(parts) > 3 else ""
                if suite not in suites:
                    suites.append(suite)
                c = checks.setdefault((suite, name), {"status": set(), "detail": []})
                c["status"].add(status)
                if detail and status in ("fail", "warn"):
                    c["detail"].append(detail)

    def verdict(c):
        s = c["status"]
        if "fail" in s:
            return "fail"
        if "ok" in s or "warn" in s:
            return "ok"
        return "skip"

    expected, problems = load_expected(args.expected)
    tot = collections.Counter()
    unexpected, now_ok, warnings = [], [], []
    print("=== conformance summary ===")
    for suite in suites:
        cnt = collections.Counter()
        for (s, name), c in checks.items():
            if s != suite:
                continue
            v = verdict(c)
            if v == "fail":
                v = "xfail" if (s, name) in expected else "unexpected"
                if v == "unexpected":
                    unexpected.append((s, name, "; ".join(c["detail"])))
            elif v == "ok" and (s, name) in expected:
                now_ok.append((s, name))
            if "warn" in c["status"] and v != "unexpected":
                warnings.append((s, name, "; ".join(d for d in c["detail"])))
            cnt[v] += 1
        tot.update(cnt)
        print(f"{suite:18} {cnt['ok']:4} ok, {cnt['xfail']:3} expected failures, "
              f"{cnt['unexpected']:3} unexpected, {cnt['skip']:3} skipped")

    seen_suites = set(suites)
    not_seen = [(s, n) for (s, n) in expected if (s, n) not in checks and s in seen_suites]
    unknown_suite = sorted({s for (s, _n) in expected if s not in seen_suites})

    if args.verbose and warnings:
        print("\n--- warnings (not failures) ---")
        for s, n, d in warnings:
            print(f"WARN  {s}: {n}" + (f"\n        {d}" if d else ""))
    if unexpected:
        print("\n--- UNEXPECTED failures (fix the server, or add to the expected-failures list with a reason) ---")
        for s, n, d in unexpected:
            print(f"FAIL  {s}\t{n}" + (f"\n        {d}" if d else ""))
    if now_ok:
        print("\n--- listed as expected failures but now passing: remove from the list ---")
        for s, n in now_ok:
            print(f"NOW PASSING, remove from list: {s}\t{n}")
    if not_seen:
        print("\n--- listed as expected failures but not reported by the suite (renamed? not run?) ---")
        for s, n in not_seen:
            print(f"NOT SEEN: {s}\t{n}")
    if unknown_suite:
        print(f"\nnote: expected-failures entries for suites that did not run here: {', '.join(unknown_suite)}")
    for p in problems:
        print(f"warning: {p}")
    print(f"\nconformance: {tot['ok']} checks ok, {tot['xfail']} expected failures, "
          f"{tot['unexpected']} unexpected")
    return 1 if tot["unexpected"] else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ext"); p.add_argument("logdir"); p.add_argument("shared")
    p = sub.add_parser("sanity"); p.add_argument("json_file")
    p = sub.add_parser("missing"); p.add_argument("suite"); p.add_argument("why")
    p = sub.add_parser("compare"); p.add_argument("--expected"); p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("results", nargs="+")
    args = ap.parse_args()
    if args.cmd == "compare":
        return cmd_compare(args)
    {"ext": cmd_ext, "sanity": cmd_sanity, "missing": cmd_missing}[args.cmd](args, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
