#!/usr/bin/env bash
# The dashboard's overview with 50 services, as a browser sees it (issue 18): the shipped daemon
# and its defaults, 50 services of one instance each (a sleeping process: the page's cost is the
# daemon's and the browser's, not the services'), and Debian's Chromium (headless) driven by
# bench/.../DashboardBench.java. It logs in with the daemon's token, loads the overview RUNS times
# (default 20) and checks that every load shows all 50 services.
#
# Usage: bench/dashboard.sh
# Last line: overview_services=50 fcp_ms=X ttfb_ms=Y html_kb=Z page_kb=W
#   fcp_ms  median first contentful paint from navigation start (warm: the assets cached)
#   ttfb_ms median from request to the first byte of the page (the server's rendering)
#   html_kb the page itself; page_kb with its script, styles and chart library (cold load)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-20}"
SERVICES="${SERVICES:-50}"
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
  || { echo "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver" >&2; exit 1; }

T="$(mktemp -d)"
cleanup() {
  PILOTHOUSE_STATE_DIR="$T/state" "$HERE/pilothouse" down >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
pilothouse() { PILOTHOUSE_STATE_DIR="$T/state" "$HERE/pilothouse" "$@"; }

echo "building" >&2
(cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -o -DskipTests -Dspotless.check.skip=true install >&2) \
  || (cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -DskipTests -Dspotless.check.skip=true install >&2)
touch "$HERE/dist/target/lib/.built"
export PILOTHOUSE_NO_BUILD=1

{
  echo "services:"
  for i in $(seq -w 1 "$SERVICES"); do
    printf '  svc-%s:\n    command: /bin/sleep\n    args: ["100000"]\n    version: v1\n' "$i"
  done
} >"$T/spec.yaml"
echo "starting $SERVICES services" >&2
pilothouse up -f "$T/spec.yaml" --detach --timeout 120 --api-port 0 >"$T/up.log" 2>&1 \
  || { cat "$T/up.log" >&2; exit 1; }
API="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"])' "$T/state/daemon.json")"
TOKEN="$(cat "$T/state/api-token")"
CP="$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*"
"$JAVA" -cp "$CP" dev.pilothouse.bench.DashboardBench "$API" "$TOKEN" "$RUNS" "$SERVICES"
