#!/usr/bin/env python3
"""Run scim2-tester (PyPI, Python API only: it has no CLI of its own) against a SCIM server.

usage: scim2_tester_run.py BASE_URL TOKEN RECORDS_OUT [--log FILE] [--timeout SECONDS]

Needs the conformance venv (scim2-tester, scim2-client[httpx2]). Writes one record per check result
to RECORDS_OUT in the format of results.py (suite, status, check name, detail) and a readable log
of every result (status, name, reason) to --log.

Check name: '<checker function>[ [ResourceType]][ <attribute path>][ #k]', e.g.
'check_add_attribute [User] name', 'object_creation [Group]', 'schemas_endpoint_methods #3'.
#k numbers results of one checker that carry nothing more specific (in run order: e.g. the
POST/PUT/PATCH/DELETE probes of *_endpoint_methods, the 'attributes' then 'excludedAttributes'
probes of *_with_attributes).

Status mapping: SUCCESS, COMPLIANT, ACCEPTABLE -> ok; DEVIATION (breaks a SHOULD) -> warn;
ERROR, CRITICAL (break a MUST) -> fail; SKIPPED -> skip.
"""
import argparse
import sys
import traceback

from results import clean, emit, numbered

SUITE = "scim2-tester"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("token")
    ap.add_argument("out")
    ap.add_argument("--log", default=None)
    ap.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    a = ap.parse_args()

    out = open(a.out, "w", encoding="utf-8")
    log = open(a.log, "w", encoding="utf-8") if a.log else sys.stderr
    try:
        import httpx2
        from scim2_client.engines.httpx2 import SyncSCIMClient
        from scim2_tester import Status, check_server

        http = httpx2.Client(base_url=a.base_url.rstrip("/"), timeout=a.timeout,
                             headers={"Authorization": f"Bearer {a.token}"})
        results = check_server(SyncSCIMClient(http))
    except Exception as exc:  # a crash of the tester itself, not a failed check
        traceback.print_exc(file=log)
        emit(out, SUITE, "fail", "(suite did not run)", f"{type(exc).__name__}: {exc}")
        return 0

    from importlib.metadata import version
    print(f"# scim2-tester {version('scim2-tester')} against {a.base_url}: "
          f"{len(results)} results", file=log)
    status_map = {Status.SUCCESS: "ok", Status.COMPLIANT: "ok", Status.ACCEPTABLE: "ok",
                  Status.DEVIATION: "warn", Status.ERROR: "fail", Status.CRITICAL: "fail",
                  Status.SKIPPED: "skip"}
    base = []
    for r in results:
        name = r.title or "(untitled check)"
        if r.resource_type:
            name += f" [{r.resource_type}]"
        urn = r.data.get("urn") if isinstance(r.data, dict) else None
        if urn:
            name += f" {urn}"
        base.append(name)
    for name, r in zip(numbered(base), results):
        status = status_map.get(r.status, "fail")
        emit(out, SUITE, status, name, r.reason if status != "ok" else "")
        print(f"{r.status.name:10} {name}: {clean(r.reason, 400)}", file=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
