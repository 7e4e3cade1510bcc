#!/usr/bin/env bash
# Rule evaluation as users run it: the shipped daemon (`pilothouse up`, its defaults) evaluates
# RULES alerting rules (default 10,000, in 10 groups at 15 s, each over its own series, half of
# them above the threshold, so half the alerts are pending or firing) and Prometheus (Debian's
# 2.42) evaluates the same rule file over the same remote-written series, each store pinned to
# CPU 1. Both report each group's evaluationTime in the same API (/api/v1/rules); the figure is
# the sum over the 10 groups after three intervals, i.e. the time one 15 s interval costs.
# Both must hold the same number of active alerts and no unhealthy rule, or the script stops.
#
# Then the latency from a threshold crossing to the webhook: a 1 s group with `bench_latency > 0`
# (no `for`), routed with group_wait 1s to a receiver on loopback; the sample is pushed and the
# time until its notification arrives printed (5 runs, each a new alert and group; median).
#
# Usage: bench/alerting.sh [RULES]
# Last line: rules=N pilothouse_eval_s=X prometheus_eval_s=Y eval_vs_prometheus=Z interval_share=W threshold_to_webhook_s=V group_wait_s=1
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RULES="${1:-10000}"
SERVER_CPU=1
CLIENT_CPU=0
[ "$(nproc)" -ge 2 ] || { SERVER_CPU=0; echo "warning: one CPU only" >&2; }
need=()
[ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v taskset >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
echo "building" >&2
(cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -o -DskipTests -Dspotless.check.skip=true install >&2) \
  || (cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -DskipTests -Dspotless.check.skip=true install >&2)
CP="$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*"
bench() { taskset -c "$CLIENT_CPU" "$JAVA" -cp "$CP" dev.pilothouse.bench.AlertingBench "$@"; }

T="$(mktemp -d)"
PROM_PID=""
cleanup() {
  [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null || true
  PILOTHOUSE_STATE_DIR="$T/ph" "$HERE/pilothouse" down >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/rules"
bench rules "$RULES" 10 "$T/rules"
HOOK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$T/alertmanager.yml" <<AM
route: {receiver: hook, group_by: [alertname, run], group_wait: 1s, group_interval: 1m, repeat_interval: 4h,
        routes: [{matchers: ['alertname!="BenchLatency"'], receiver: none}]}
receivers:
  - name: hook
    webhook_configs: [{url: 'http://127.0.0.1:$HOOK_PORT/hook'}]
  - name: none
AM
WAIT=50   # three 15 s intervals after the data is in, and a margin

# ---- Prometheus
PP=19091
printf 'global:\n  evaluation_interval: 15s\n  scrape_interval: 1h\nrule_files: [%s]\n' "$T/rules/*.yml" > "$T/prom.yml"
taskset -c "$SERVER_CPU" /usr/bin/prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
  --web.listen-address=127.0.0.1:$PP --web.enable-remote-write-receiver >"$T/prom.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PP/-/ready" >/dev/null && break; sleep 0.1; done
bench push "http://127.0.0.1:$PP/api/v1/write" "$RULES"
echo "Prometheus: evaluating $RULES rules for ${WAIT}s" >&2
sleep "$WAIT"
read -r P_EVAL P_RULES P_ALERTS P_BAD <<<"$(bench evaluation "http://127.0.0.1:$PP" | sed 's/[a-z_]*=//g')"
kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=""

# ---- Pilothouse
export PILOTHOUSE_STATE_DIR="$T/ph"
cat > "$T/spec.yaml" <<SPEC
metrics: {hostMetrics: false, scrapeInterval: 1h, scrapeTimeout: 10s}
services:
  idle: {command: sleep, args: ['3600'], replicas: 0}
alerting:
  ruleFiles: [rules/*.yml]
  alertmanagerConfig: alertmanager.yml
SPEC
taskset -c "$SERVER_CPU" "$HERE/pilothouse" up -f "$T/spec.yaml" --detach --api-port 19462 >"$T/ph-up.log" 2>&1
export BENCH_TOKEN="$(cat "$T/ph/api-token")"
bench push "http://127.0.0.1:19462/api/v1/write" "$RULES"
echo "Pilothouse: evaluating $RULES rules for ${WAIT}s" >&2
sleep "$WAIT"
read -r X_EVAL X_RULES X_ALERTS X_BAD <<<"$(bench evaluation "http://127.0.0.1:19462" | sed 's/[a-z_]*=//g')"
echo "Prometheus: $P_RULES rules, $P_ALERTS alerts, $P_BAD unhealthy; Pilothouse: $X_RULES rules, $X_ALERTS alerts, $X_BAD unhealthy" >&2
if [ "$P_RULES" != "$RULES" ] || [ "$X_RULES" != "$RULES" ] || [ "$P_ALERTS" != "$X_ALERTS" ] || [ "$P_BAD" != 0 ] || [ "$X_BAD" != 0 ]; then
  echo "the two did not do the same work: the comparison would be unfair" >&2
  exit 1
fi
LAT=($(bench latency "http://127.0.0.1:19462" "$HOOK_PORT" 5 | sed 's/latency_s=//'))
echo "threshold to webhook (s): ${LAT[*]}" >&2
python3 - "$RULES" "$X_EVAL" "$P_EVAL" "${LAT[@]}" <<'PY'
import statistics, sys
rules, x, p = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
lat = statistics.median(float(v) for v in sys.argv[4:])
print(f"pilothouse: {x:.3f} s of evaluation per 15 s interval ({x/15*100:.1f}% of one core); prometheus: {p:.3f} s")
print(f"rules={rules} pilothouse_eval_s={x:.3f} prometheus_eval_s={p:.3f} eval_vs_prometheus={x/p:.2f} interval_share={x/15:.3f} threshold_to_webhook_s={lat:.2f} group_wait_s=1")
PY
