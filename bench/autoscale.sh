#!/usr/bin/env bash
# How fast the shipped autoscaler follows a load step, and whether it flaps (issue 14).
#
# The daemon as users run it (`pilothouse up`, defaults) with one demo service behind the load
# balancer, autoscaled on `requestsPerSecond: 50` (min 1, max 10, Kubernetes' default behaviors,
# warmup 5s). Load comes from `pilothouse load` (open model, constant rate).
#
# 1. Step: 20 req/s for about 20 s (one instance carries it), then 300 req/s (a second generator,
#    started ahead with --start-at, adds 280) for 30 s. From the event log (the daemon's clock, the
#    same machine): decision_s, from the step to the first Scaled event; capacity_s, from the step
#    to the InstanceReady event that makes as many instances ready as that decision asked for.
#    failed: requests of both generators that got no 2xx.
# 2. Oscillation: the service restarted at 2 instances (100 req/s at target), the load swinging
#    between 80 and 120 req/s every 10 s for 150 s. flaps: how often the count changed direction
#    (a scale-down after a scale-up, or the reverse). Kubernetes' scale-down window (5 min) is
#    what keeps this at 0.
#
# Usage: bench/autoscale.sh
# Last line: decision_s=X capacity_s=Y failed=Z flaps=W
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }

T="$(mktemp -d)"
STATE_DIR="$T/state"
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  PILOTHOUSE_STATE_DIR="$STATE_DIR" "$HERE/pilothouse" down >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
pilothouse() { PILOTHOUSE_STATE_DIR="$STATE_DIR" "$HERE/pilothouse" "$@"; }

echo "building" >&2
(cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -o -DskipTests -Dspotless.check.skip=true install >&2) \
  || (cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -DskipTests -Dspotless.check.skip=true install >&2)
# Measure what was just built: the launcher must not rebuild when sources change meanwhile.
touch "$HERE/dist/target/lib/.built"
export PILOTHOUSE_NO_BUILD=1

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
spec() { # replicas
  cat >"$T/shop.yaml" <<EOF
proxy: {port: $PORT}
services:
  shop:
    command: \${PILOTHOUSE_HOME}/pilothouse
    args: [demo]
    version: v1
    replicas: $1
    readiness: {http: /readyz, interval: 1s, timeout: 1s}
    route: {pathPrefix: /}
    autoscale:
      min: 1
      max: 10
      targets: [{requestsPerSecond: 50}]
      warmup: 5s
EOF
}
URL="http://127.0.0.1:$PORT/"
events() { pilothouse events --limit 1000 -o json >"$T/events.json"; }

# ---- 1. the step
spec 1
echo "starting the daemon with one autoscaled demo instance" >&2
pilothouse up -f "$T/shop.yaml" --detach --timeout 120 >"$T/up.log" 2>&1 || { cat "$T/up.log" >&2; exit 1; }
pilothouse load "$URL" --rate 20 --duration 60s -o json >"$T/base.json" 2>"$T/base.err" &
BASE=$!
# The second generator starts at a set time (its JVM starts before it): the step is exact.
STEP="$(python3 -c "import time; print(f'{time.time() + 20:.3f}')")"
pilothouse load "$URL" --rate 280 --duration 30s --start-at "$STEP" -o json >"$T/surge.json" 2>"$T/surge.err" &
SURGE=$!
wait "$SURGE" "$BASE"
events
read -r decision wanted capacity < <(python3 - "$T/events.json" "$STEP" <<'PY'
import json, sys
from datetime import datetime
evs = json.load(open(sys.argv[1]))
evs = evs if isinstance(evs, list) else evs.get("events", [])
step = float(sys.argv[2])
def at(e):
    return datetime.fromisoformat(e["at"].replace("Z", "+00:00")).timestamp()
evs.sort(key=lambda e: e["seq"])
scaled = [e for e in evs if e["type"] == "Scaled" and at(e) >= step - 1]
if not scaled:
    sys.exit(1)
first = scaled[0]
want = int(first["fields"]["to"])
ready = 1  # one instance carried the base load
cap = None
for e in evs:
    if e["type"] == "InstanceReady" and at(e) > at(first):
        ready += 1
        if ready >= want:
            cap = at(e) - step
            break
print(f"{at(first) - step:.2f} {want} {cap:.2f}" if cap is not None else f"{at(first) - step:.2f} {want} -")
PY
) || { echo "no Scaled event after the step" >&2; exit 1; }
[ "$capacity" != "-" ] || { echo "the $wanted instances asked for were never all ready" >&2; exit 1; }
failed="$(python3 - "$T/base.json" "$T/surge.json" <<'PY'
import json, sys
total = 0
for f in sys.argv[1:]:
    r = json.load(open(f))
    ok = sum(n for code, n in r["status"].items() if code.startswith("2"))
    total += r["requests"] - ok
print(total)
PY
)"
pilothouse scale explain shop >&2 || true
echo "step 20 -> 300 req/s: decision after ${decision}s (1 -> $wanted), capacity ready after ${capacity}s, $failed failed" >&2

# ---- 2. oscillation around the threshold
pilothouse down >/dev/null 2>&1
STATE_DIR="$T/state2" # a fresh store: no decisions or events of the step
spec 2
echo "restarting at 2 instances; load swings 80 <-> 120 req/s every 10 s for 150 s" >&2
pilothouse up -f "$T/shop.yaml" --detach --timeout 120 >"$T/up2.log" 2>&1 || { cat "$T/up2.log" >&2; exit 1; }
sleep 5
for i in $(seq 1 15); do
  if [ $((i % 2)) -eq 1 ]; then rate=80; else rate=120; fi
  pilothouse load "$URL" --rate "$rate" --duration 10s -o json >"$T/osc$i.json" 2>/dev/null
done
events
read -r flaps changes < <(python3 - "$T/events.json" <<'PY'
import json, sys
evs = json.load(open(sys.argv[1]))
evs = evs if isinstance(evs, list) else evs.get("events", [])
dirs = []
for e in evs:
    if e["type"] == "Scaled":
        f, t = int(e["fields"]["from"]), int(e["fields"]["to"])
        dirs.append(1 if t > f else -1)
print(sum(1 for a, b in zip(dirs, dirs[1:]) if a != b), len(dirs))
PY
)
echo "oscillation: $changes scale changes, $flaps reversals" >&2
echo "decision_s=$decision capacity_s=$capacity failed=$failed flaps=$flaps"
