#!/usr/bin/env bash
# How fast a bad canary is rolled back, and how rarely a good one is (issue 12, goal 1).
#
# 1. The README's demo as a user runs it: `pilothouse up -f examples/shop.yaml`, 50 requests/s
#    through the load balancer (`pilothouse load`), then `apply -f examples/shop-v2-bad.yaml` (a
#    canary failing 30 % of requests at 10 % weight). Measured from the event log: from the
#    RolloutStep that gives the canary its first traffic (weight 10) to RolloutRolledBack (the
#    rollback's weight-0 swap happens before that event is written). RUNS times (default 3); the
#    median is reported.
# 2. 1,000 A/A rollouts (both sides failing 0.5 % of requests, the same realistic latency) with the
#    shipped rollout controller and the demo's strategy in virtual time
#    (bench/.../RolloutSimulation.java): the share rolled back.
#
# Usage: bench/rollback.sh
# Last line: bad_canary_rollback_s=X aa_false_rollback_pct=Y
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-3}"
AA="${AA:-1000}"
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }

T="$(mktemp -d)"
LOAD_PID=""
cleanup() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
  PILOTHOUSE_STATE_DIR="$T/state" "$HERE/pilothouse" down >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
pilothouse() { PILOTHOUSE_STATE_DIR="$T/state" "$HERE/pilothouse" "$@"; }

echo "building" >&2
(cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -o -DskipTests -Dspotless.check.skip=true install >&2) \
  || (cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -DskipTests -Dspotless.check.skip=true install >&2)
# Measure what was just built: the launcher must not rebuild when sources change meanwhile.
touch "$HERE/dist/target/lib/.built"
export PILOTHOUSE_NO_BUILD=1

echo "starting the demo (examples/shop.yaml)" >&2
pilothouse up -f "$HERE/examples/shop.yaml" --detach --timeout 120 >"$T/up.log" 2>&1 \
  || { cat "$T/up.log" >&2; exit 1; }
pilothouse load http://127.0.0.1:8080/ --rate 50 --duration "$(( RUNS * 90 + 60 ))s" >"$T/load.log" 2>&1 &
LOAD_PID=$!
sleep 10

delays=()
for run in $(seq 1 "$RUNS"); do
  pilothouse apply -f "$HERE/examples/shop-v2-bad.yaml" >"$T/apply.log" 2>&1 \
    || { cat "$T/apply.log" >&2; exit 1; }
  phase=""
  for _ in $(seq 1 600); do
    phase="$(pilothouse rollout status shop -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("phase",""))' || true)"
    [ "$phase" = "RolledBack" ] || [ "$phase" = "Promoted" ] && break
    sleep 0.2
  done
  [ "$phase" = "RolledBack" ] || { echo "run $run: the bad canary ended '$phase', not RolledBack" >&2; exit 1; }
  pilothouse events --limit 200 -o json >"$T/events.json"
  d="$(python3 - "$T/events.json" <<'PY'
import json, sys
from datetime import datetime
evs = json.load(open(sys.argv[1]))
evs = evs if isinstance(evs, list) else evs.get("events", [])
def at(e):
    return datetime.fromisoformat(e["at"].replace("Z", "+00:00")).timestamp()
back = [e for e in evs if e["type"] == "RolloutRolledBack"]
last = max(back, key=at)
steps = [e for e in evs if e["type"] == "RolloutStep" and e.get("fields", {}).get("weight") == "10"
         and at(e) <= at(last)]
first = max(steps, key=at)
print(f"{at(last) - at(first):.2f}")
PY
)"
  reason="$(pilothouse rollout status shop -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("reason",""))')"
  echo "run $run: rolled back ${d}s after the canary's first traffic: $reason" >&2
  delays+=("$d")
  # Wait until the canary instances are gone before the next apply.
  sleep 5
done
median="$(printf '%s\n' "${delays[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"

echo "simulating $AA A/A rollouts" >&2
CP="$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*"
aa="$("$JAVA" -cp "$CP" dev.pilothouse.bench.RolloutSimulation \
  "$HERE/examples/shop.yaml" "$HERE/examples/shop-v2-bad.yaml" "$AA" 0.005 0.005 2>/dev/null | tail -1)"
echo "A/A: $aa" >&2
pct="$(sed -n 's/.*rolled_back_pct=\([0-9.]*\).*/\1/p' <<<"$aa")"
echo "bad canary runs (s): ${delays[*]}"
echo "bad_canary_rollback_s=$median aa_false_rollback_pct=$pct"
