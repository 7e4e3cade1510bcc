#!/usr/bin/env bash
# Runs `pilothouse audit host` (level 2) and Lynis (Debian's package) on this host, side by side:
# which controls each covers, and — where both check the same thing — whether they agree.
# Needs root, lynis (apt-get install lynis) and python3. Last line:
#   same_controls=N agree=A disagree=D pilothouse_rules=P lynis_tests=L lynis_only=O
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v lynis >/dev/null || { echo "install lynis: apt-get install lynis" >&2; exit 2; }
tmp=$(mktemp -d /tmp/audit-vs-lynis.XXXXXX)
trap 'PILOTHOUSE_NO_BUILD=1 ./pilothouse down --state-dir "$tmp/state" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
./pilothouse up --detach --api-port 0 --state-dir "$tmp/state" >/dev/null
PILOTHOUSE_NO_BUILD=1 ./pilothouse audit host --profile cis-debian12-l2 -o json --state-dir "$tmp/state" >"$tmp/ours.json" || true
lynis audit system --quick --no-colors --report-file "$tmp/lynis.dat" --logfile "$tmp/lynis.log" >/dev/null 2>&1
python3 - "$tmp/ours.json" "$tmp/lynis.dat" <<'PY'
import json, re, sys
ours = json.load(open(sys.argv[1]))
lines = open(sys.argv[2], encoding="utf-8", errors="replace").read().splitlines()
executed = set()
flagged = {}          # test id -> list of texts (suggestions, warnings)
sysctl_differs = {}   # key -> (lynis preferred, value)
for l in lines:
    if l.startswith("tests_executed="):
        executed |= set(x for x in l.split("=", 1)[1].split("|") if x)
    m = re.match(r"(suggestion|warning)\[\]=([A-Z0-9-]+)\|([^|]*)", l)
    if m:
        flagged.setdefault(m.group(2), []).append(m.group(3))
    m = re.match(r"details\[\]=KRNL-6000\|sysctl\|.*field:([^;]+);prefval:([^;]*);value:([^;]*);", l)
    if m:
        sysctl_differs[m.group(1)] = (m.group(2), m.group(3))

def lynis_verdict(f):
    """What Lynis says about the same thing as our finding f: 'fail', 'pass' or None (not the same)."""
    rid = f["id"]
    ev = f["evidence"]
    if "KRNL-6000" in f["lynis"] and "KRNL-6000" in executed:
        key = ev.split(" = ")[0] if " = " in ev else None
        if key:
            return "fail" if key in sysctl_differs else "pass"
    part = {"PH-FS-001": "/tmp", "PH-FS-006": "/home", "PH-FS-007": "/var"}.get(rid)
    if part and "FILE-6310" in executed:
        texts = flagged.get("FILE-6310", [])
        return "fail" if any(part + " " in t for t in texts) else "pass"
    same = {"PH-AUTH-001": ("AUTH-9286", "maximum password age"),
            "PH-AUTH-005": ("AUTH-9262", ""),
            "PH-LOG-001": ("ACCT-9628", ""),
            "PH-LOG-002": ("LOGG-2130", "syslog daemon")}.get(rid)
    if same and same[0] in executed:
        texts = flagged.get(same[0], [])
        return "fail" if any(same[1] in t for t in texts) else "pass"
    return None

rows, agree, disagree, same_n = [], 0, 0, 0
covered = set()
for f in ours["findings"]:
    covered |= set(f["lynis"])
    if f["status"] not in ("pass", "fail"):
        rows.append((f["id"], f["status"], "-", "not checked here", ",".join(f["lynis"]) or "-"))
        continue
    v = lynis_verdict(f)
    if v is None:
        rows.append((f["id"], f["status"], "-", "Lynis has no same check" if not f["lynis"] else "related, not the same", ",".join(f["lynis"]) or "-"))
        continue
    same_n += 1
    ok = v == f["status"]
    agree += ok
    disagree += not ok
    rows.append((f["id"], f["status"], v, "agree" if ok else "DISAGREE", ",".join(f["lynis"])))
w = [max(len(str(r[i])) for r in rows + [("RULE", "PILOTHOUSE", "LYNIS", "", "LYNIS TESTS")]) for i in range(5)]
print("  ".join(h.ljust(w[i]) for i, h in enumerate(("RULE", "PILOTHOUSE", "LYNIS", "", "LYNIS TESTS"))))
for r in rows:
    print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))
lynis_only = sorted(t for t in executed if t not in covered)
print()
print(f"Lynis ran {len(executed)} tests; {len(lynis_only)} of them look at things no Pilothouse rule does"
      f" (e.g. {', '.join(lynis_only[:12])} …)")
print(f"Pilothouse ran {len(ours['findings'])} rules; "
      f"{sum(1 for f in ours['findings'] if not f['lynis'])} of them have no Lynis counterpart")
print(f"same_controls={same_n} agree={agree} disagree={disagree} pilothouse_rules={len(ours['findings'])}"
      f" lynis_tests={len(executed)} lynis_only={len(lynis_only)}")
PY
