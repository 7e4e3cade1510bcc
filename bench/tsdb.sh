#!/usr/bin/env bash
# Side-by-side time-series store benchmark: Pilothouse's built-in store vs Prometheus (Debian's
# 2.42) on the same machine and the same data: node-exporter-like series (CPU, memory, network)
# and service latency histograms, SERIES series over HOURS hours at a 15 s interval, written by
# the same remote-write client to each (client on CPU 0, store pinned to CPU 1: one core each).
#
# Measured: bytes per sample of the persisted blocks on disk (chunks + index), ingested samples/s
# on one core, heap per active series (after a full GC in both: jcmd GC.run, and Go's
# /debug/pprof/heap?gc=1; then live objects: the JVM's class histogram less dead filler, and Go's go_memstats_alloc_bytes; both minus
# the idle baseline), WAL replay time after kill -9
# (prometheus_tsdb_data_replay_duration_seconds vs pilothouse_tsdb_wal_replay_seconds), and the
# median latency of a query suite: rate over 1 h on every series, histogram_quantile, topk.
# Memory is measured in a first pass of its own (fresh process, write, full GC, stop). In the
# second pass each store first takes an untimed warm-up of SERIES other series over the first
# hour (metric names and jobs prefixed warmup_): the JVM starts compiling its hot paths (it does
# not finish: about 50 requests), Go grows its heap; the queries do not select those series; their
# samples are in the blocks (the same kind of data) and count in bytes per sample. A third pass per
# store (fresh) measures steady ingestion: WARMUP_ROUNDS (default 10) times that warm-up first,
# then the same timed write (see "Steady ingestion" below).
#
# The values are a realistic mix (bench/src/main/java/dev/pilothouse/bench/Mix.java: counters and
# gauges with two or three decimals, full-precision floats, integer counters and histograms, as
# node_exporter and client libraries send them); BENCH_DATA=integer gives the integer-only data of
# sessions 1-3. VictoriaMetrics (Debian's 1.79) is a third column. Every store must hold every
# sample it was sent (counted by count_over_time per metric) and Pilothouse must answer the query
# suite as Prometheus does (compared as instant queries); the script stops otherwise.
# VictoriaMetrics's MetricsQL computes rate() without extrapolation, so its answers are not
# compared, only its sample count; it runs with -search.disableCache (its response cache would
# answer the repeated queries from memory) and its bytes are those of data/ and indexdb/ after
# force_flush and force_merge. The first query of the suite selects counters only: rate() of the
# realistic mix's gauges would give series that differ only in their dropped metric name.
#
# Each query of the suite is run QUERY_WARMUP times untimed (default 20, every store alike) before
# its RUNS timed runs: the figure is the steady state of dashboards that ask the same queries again
# and again (QUERY_WARMUP=2 gives the cold figures of earlier sessions, when the JVM has not yet
# compiled the query engine).
#
# Usage: bench/tsdb.sh [SERIES] [HOURS]
# Last line: bytes_per_sample=X ingest_vs_prometheus=Y mem_per_series_vs_prometheus=Z query_p50_vs_prometheus=W bytes_per_sample_vs_victoriametrics=V ingest_vs_victoriametrics=U steady_ingest_vs_prometheus=S steady_ingest_vs_victoriametrics=R
# (steady_*: the third pass, after WARMUP_ROUNDS rounds of warm-up; see "Steady ingestion" below)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERIES="${1:-10000}"
HOURS="${2:-4}"
RUNS="${RUNS:-7}"
export QUERY_WARMUP="${QUERY_WARMUP:-20}"
CLIENT_CPU=0
SERVER_CPU=1
[ "$(nproc)" -ge 2 ] || { SERVER_CPU=0; echo "warning: one CPU only" >&2; }

need=()
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/bin/victoria-metrics ] || need+=(victoria-metrics)
command -v taskset >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
JCMD="$JDK_HOME/bin/jcmd"
echo "building" >&2
(cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -o -DskipTests -Dspotless.check.skip=true install >&2) \
  || (cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -DskipTests -Dspotless.check.skip=true install >&2)
CP="$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*"
bench() { taskset -c "$CLIENT_CPU" "$JAVA" -cp "$CP" dev.pilothouse.bench.TsdbBench "$@"; }

T="$(mktemp -d)"
PROM_PID=""
VM_PID=""
cleanup() {
  [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null || true
  [ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null || true
  PILOTHOUSE_STATE_DIR="$T/ph" "$HERE/pilothouse" down >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

NOW_MS=$(( $(date +%s) * 1000 ))
# Start on a 2 h boundary: both stores cut blocks at multiples of 2 h, so the first persisted
# block is a whole one whatever the time of day (a partial one spreads each series' index entry
# and chunk headers over fewer samples, in both stores).
START_MS=$(( (NOW_MS - HOURS * 3600000) / 7200000 * 7200000 ))
Q_END=$(( (START_MS + HOURS * 3600000 - 15000) / 1000 ))
Q_START=$(( Q_END - 3600 ))
QUERIES=(
  'sum by (job) (rate({job=~"node|api",__name__=~".+_(total|count)"}[1h]))'
  'histogram_quantile(0.9, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m])))'
  'topk(5, rate(node_network_receive_bytes_total[5m]))'
)

EXPECTED=$(( SERIES * (HOURS * 3600 / 15) ))
C_TIME=$(( (START_MS + HOURS * 3600000 - 15000) / 1000 ))
C_RANGE=$(( HOURS * 3600 + 60 ))
check_count() { # NAME URL: every sample sent must be stored
  local got
  got=$(bench count "$2" "$C_TIME" "$C_RANGE" | sed 's/samples=//')
  if [ "$got" != "$EXPECTED" ]; then
    echo "$1 holds $got samples of the $EXPECTED it was sent: the comparison would be unfair" >&2
    exit 1
  fi
  echo "$1: all $got samples stored" >&2
}

metric() { # URL NAME [AUTH] -> value of the first sample of NAME in a /metrics page
  local page
  page="$(curl -s ${3:+-H "Authorization: Bearer $3"} "$1")"
  awk -v n="$2" '$1==n {print $2; exit}' <<<"$page"
}
block_stats() { # DIR -> "bytes samples" of the persisted blocks (chunks + index) under DIR
  local bytes=0 samples=0
  for meta in $(find "$1" -name meta.json); do
    d="$(dirname "$meta")"
    b=$(du -sb --exclude=tombstones "$d" | cut -f1)
    m=$(stat -c %s "$meta")
    bytes=$(( bytes + b - m ))
    s=$(python3 -c "import json,sys; j=json.load(open('$meta')); print(j.get('stats',{}).get('numSamples', j.get('numSamples',0)))")
    samples=$(( samples + s ))
  done
  echo "$bytes $samples"
}
query_p50() { # BASE -> sum of the suite's p50s in ms
  local total=0
  for q in "${QUERIES[@]}"; do
    p=$(bench query "$1" "$Q_START" "$Q_END" "$RUNS" "$q" | sed 's/p50_ms=//')
    total=$(python3 -c "print($total + $p)")
  done
  echo "$total"
}

# ---- Prometheus
PP=19090
mkdir -p "$T/prom"
printf 'global:\n  scrape_interval: 1h\n' > "$T/prom.yml"
start_prom() {
  taskset -c "$SERVER_CPU" /usr/bin/prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
    --storage.tsdb.retention.time=30d --web.listen-address=127.0.0.1:$PP --web.enable-remote-write-receiver \
    >"$T/prom.log" 2>&1 &
  PROM_PID=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PP/-/ready" >/dev/null && return; sleep 0.1; done
  echo "Prometheus did not start" >&2; cat "$T/prom.log" >&2; exit 1
}
prom_gc() { curl -s "http://127.0.0.1:$PP/debug/pprof/heap?gc=1" >/dev/null; }  # a full GC first
echo "Prometheus: memory pass, $SERIES series x ${HOURS}h" >&2
start_prom
sleep 2
prom_gc
P_HEAP0=$(metric "http://127.0.0.1:$PP/metrics" go_memstats_alloc_bytes)
bench write "http://127.0.0.1:$PP/api/v1/write" "$SERIES" "$HOURS" "$START_MS" >/dev/null
prom_gc
P_HEAP1=$(metric "http://127.0.0.1:$PP/metrics" go_memstats_alloc_bytes)
kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=""
rm -rf "$T/prom"; mkdir -p "$T/prom"
echo "Prometheus: warm-up, then writing $SERIES series x ${HOURS}h" >&2
start_prom
bench write "http://127.0.0.1:$PP/api/v1/write" "$SERIES" 1 "$START_MS" warmup_ >/dev/null
P_RATE=$(bench write "http://127.0.0.1:$PP/api/v1/write" "$SERIES" "$HOURS" "$START_MS" | sed 's/.*rate=//')
echo "Prometheus: waiting for its first block (both stores are queried in the same compaction state)" >&2
for _ in $(seq 1 180); do [ -n "$(find "$T/prom" -name meta.json | head -1)" ] && break; sleep 1; done
sleep 3
echo "Prometheus: queries" >&2
P_Q=$(query_p50 "http://127.0.0.1:$PP")
check_count Prometheus "http://127.0.0.1:$PP"
for i in "${!QUERIES[@]}"; do
  bench save "http://127.0.0.1:$PP" "$Q_END" "${QUERIES[$i]}" "$T/answer-$i.json"
done
read -r P_BYTES P_SAMPLES <<<"$(block_stats "$T/prom")"
kill -9 "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true
start_prom
P_REPLAY=$(metric "http://127.0.0.1:$PP/metrics" prometheus_tsdb_data_replay_duration_seconds)
kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=""

# ---- Pilothouse
export PILOTHOUSE_STATE_DIR="$T/ph"
cat > "$T/spec.yaml" <<SPEC
metrics: {hostMetrics: false, scrapeInterval: 1h, scrapeTimeout: 10s}
services:
  idle: {command: sleep, args: ['3600'], replicas: 0}
SPEC
heap_used() { # PID -> KiB of live Java objects after a full GC (the class histogram's total)
  # Not the heap's "used": Serial's full GC leaves up to MarkSweepDeadRatio (5%) of the old
  # generation as dead filler arrays (jdk.internal.vm.FillerElement) rather than compact them,
  # which would count megabytes of garbage as memory per series.
  "$JCMD" "$1" GC.class_histogram | awk '/FillerElement/ {f += $3} /^Total/ {t = $3} END {print int((t - f) / 1024)}'
}
start_ph() {
  taskset -c "$SERVER_CPU" "$HERE/pilothouse" up -f "$T/spec.yaml" --detach --api-port 19460 >"$T/ph-up.log" 2>&1
  TOKEN="$(cat "$T/ph/api-token")"
  PID=$(python3 -c "import json;print(json.load(open('$T/ph/daemon.json'))['pid'])")
}
echo "Pilothouse: memory pass, $SERIES series x ${HOURS}h" >&2
start_ph
"$JCMD" "$PID" GC.run >/dev/null
H0=$(heap_used "$PID")
BENCH_TOKEN="$TOKEN" bench write "http://127.0.0.1:19460/api/v1/write" "$SERIES" "$HOURS" "$START_MS" >/dev/null
"$JCMD" "$PID" GC.run >/dev/null
H1=$(heap_used "$PID")
"$HERE/pilothouse" down >/dev/null 2>&1 || true
rm -rf "$T/ph"
echo "Pilothouse: warm-up, then writing $SERIES series x ${HOURS}h" >&2
start_ph
BENCH_TOKEN="$TOKEN" bench write "http://127.0.0.1:19460/api/v1/write" "$SERIES" 1 "$START_MS" warmup_ >/dev/null
X_RATE=$(BENCH_TOKEN="$TOKEN" bench write "http://127.0.0.1:19460/api/v1/write" "$SERIES" "$HOURS" "$START_MS" | sed 's/.*rate=//')
echo "Pilothouse: waiting for its first block" >&2
for _ in $(seq 1 90); do [ -n "$(find "$T/ph/tsdb" -name meta.json | head -1)" ] && break; sleep 1; done
sleep 2
echo "Pilothouse: queries" >&2
X_Q=$(BENCH_TOKEN="$TOKEN" query_p50 "http://127.0.0.1:19460")
BENCH_TOKEN="$TOKEN" check_count Pilothouse "http://127.0.0.1:19460"
for i in "${!QUERIES[@]}"; do
  if ! BENCH_TOKEN="$TOKEN" bench check "$T/answer-$i.json" "http://127.0.0.1:19460" "$Q_END" "${QUERIES[$i]}" >"$T/check.txt"; then
    echo "Pilothouse answers '${QUERIES[$i]}' differently from Prometheus: $(cat "$T/check.txt")" >&2
    exit 1
  fi
  echo "query $i: $(cat "$T/check.txt") (as Prometheus)" >&2
done
read -r X_BYTES X_SAMPLES <<<"$(block_stats "$T/ph/tsdb")"
kill -9 "$PID"
sleep 1
start_ph
X_REPLAY=$(metric "http://127.0.0.1:19460/metrics" pilothouse_tsdb_wal_replay_seconds "$TOKEN")
"$HERE/pilothouse" down >/dev/null 2>&1 || true

# ---- VictoriaMetrics
VP=18428
start_vm() {
  taskset -c "$SERVER_CPU" /usr/bin/victoria-metrics -storageDataPath="$T/vm" -retentionPeriod=100y \
    -httpListenAddr=127.0.0.1:$VP -search.maxSamplesPerQuery=1000000000 -search.latencyOffset=0s -search.disableCache \
    >"$T/vm.log" 2>&1 &
  VM_PID=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$VP/health" >/dev/null && return; sleep 0.1; done
  echo "VictoriaMetrics did not start" >&2; cat "$T/vm.log" >&2; exit 1
}
vm_gc() { curl -s "http://127.0.0.1:$VP/debug/pprof/heap?gc=1" >/dev/null; }
echo "VictoriaMetrics: memory pass, $SERIES series x ${HOURS}h" >&2
start_vm
sleep 2
vm_gc
V_HEAP0=$(metric "http://127.0.0.1:$VP/metrics" go_memstats_alloc_bytes)
bench write "http://127.0.0.1:$VP/api/v1/write" "$SERIES" "$HOURS" "$START_MS" >/dev/null
vm_gc
V_HEAP1=$(metric "http://127.0.0.1:$VP/metrics" go_memstats_alloc_bytes)
kill "$VM_PID"; wait "$VM_PID" 2>/dev/null || true; VM_PID=""
rm -rf "$T/vm"
echo "VictoriaMetrics: warm-up, then writing $SERIES series x ${HOURS}h" >&2
start_vm
bench write "http://127.0.0.1:$VP/api/v1/write" "$SERIES" 1 "$START_MS" warmup_ >/dev/null
V_RATE=$(bench write "http://127.0.0.1:$VP/api/v1/write" "$SERIES" "$HOURS" "$START_MS" | sed 's/.*rate=//')
curl -s "http://127.0.0.1:$VP/internal/force_flush" >/dev/null
curl -s "http://127.0.0.1:$VP/internal/force_merge" >/dev/null
sleep 5
echo "VictoriaMetrics: queries" >&2
V_Q=$(query_p50 "http://127.0.0.1:$VP")
check_count VictoriaMetrics "http://127.0.0.1:$VP"
V_BYTES=$(du -sb "$T/vm/data" "$T/vm/indexdb" | awk '{s += $1} END {print s}')
V_SAMPLES=$(( EXPECTED + SERIES * 240 )) # the measured data and the hour of warm-up
kill "$VM_PID"; wait "$VM_PID" 2>/dev/null || true; VM_PID=""

# ---- Steady ingestion: a third pass per store, fresh, after a longer warm-up
# WARMUP_ROUNDS (default 10) rounds of SERIES other series over an hour, 4 h before the measured
# data, then the measured write, timed (TsdbBench warm-write, everything encoded before anything is
# sent). The second pass's hour of warm-up is ~50 requests, too few for the JVM to finish compiling
# the ingestion path on one core (its compilers took a third of the core during that timed write);
# Go compiles ahead of time. Pilothouse persists the head's oldest range at a tick every 30 s once
# the head spans more than 1.5 ranges (its own metrics are written at the current time), so a
# write of old data must not straddle a tick: the client waits until a one-series probe (8 h
# before the data, 240 samples) is persisted, sends the warm-up, waits until the warm-up's block is
# persisted at the next tick, then sends the timed write, each with most of a tick interval ahead
# (a few seconds are left for the tick to end: its loop looks at the head again after each block).
# Only the timed write's rate is reported; blocks, queries and memory come from the passes above.
W_ROUNDS="${WARMUP_ROUNDS:-10}"
W_START=$(( START_MS - 4 * 3600000 ))
steady() { # URL [GO_FILE] -> samples/s of the timed write after the warm-up
  bench warm-write "$1" "$SERIES" "$HOURS" "$START_MS" "$W_ROUNDS" "$W_START" ${2:+"$2"} \
    | sed 's/.* rate=\([0-9]*\).*/\1/'
}
wait_file() { # FILE: until it exists (the client's signal)
  for _ in $(seq 1 1200); do [ -e "$1" ] && return; sleep 0.1; done
  echo "$1 did not appear within 2 minutes" >&2; exit 1
}
wait_block() { # DIR MIN_MAXTIME_MS: until a persisted block under DIR ends at or after the time
  for _ in $(seq 1 1200); do
    for meta in $(find "$1" -name meta.json 2>/dev/null); do
      [ "$(python3 -c "import json; print(int(json.load(open('$meta'))['maxTime'] >= $2))")" = 1 ] && return
    done
    sleep 0.1
  done
  echo "no block reaching $2 under $1 within 2 minutes" >&2; exit 1
}
echo "Prometheus: steady ingestion, $W_ROUNDS x $SERIES warm-up series first" >&2
rm -rf "$T/prom"; mkdir -p "$T/prom"
start_prom
PS_RATE=$(steady "http://127.0.0.1:$PP/api/v1/write")
kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=""
echo "VictoriaMetrics: steady ingestion" >&2
rm -rf "$T/vm"
start_vm
VS_RATE=$(steady "http://127.0.0.1:$VP/api/v1/write")
kill "$VM_PID"; wait "$VM_PID" 2>/dev/null || true; VM_PID=""
echo "Pilothouse: steady ingestion" >&2
rm -rf "$T/ph"
start_ph
GO="$T/go"
BENCH_TOKEN="$TOKEN" steady "http://127.0.0.1:19460/api/v1/write" "$GO" >"$T/steady.txt" &
STEADY_PID=$!
wait_file "$GO.ready"
BENCH_TOKEN="$TOKEN" bench write "http://127.0.0.1:19460/api/v1/write" 1 1 $(( START_MS - 8 * 3600000 )) probe_ >/dev/null
wait_block "$T/ph/tsdb" $(( START_MS - 8 * 3600000 ))
sleep 1 # the tick's loop looks at the head again once the block is written: let it end first
touch "$GO.1"
wait_file "$GO.warm"
wait_block "$T/ph/tsdb" $(( START_MS - 3 * 3600000 ))
sleep 5 # (the warm-up's block takes longer to leave the head: 24 M samples)
touch "$GO.2"
wait "$STEADY_PID" || { echo "Pilothouse's steady-ingestion write failed (see above)" >&2; exit 1; }
XS_RATE=$(cat "$T/steady.txt")
"$HERE/pilothouse" down >/dev/null 2>&1 || true

python3 - "$SERIES" "$P_RATE" "$X_RATE" "$P_HEAP0" "$P_HEAP1" "$H0" "$H1" "$P_BYTES" "$P_SAMPLES" "$X_BYTES" "$X_SAMPLES" "$P_Q" "$X_Q" "$P_REPLAY" "$X_REPLAY" "$V_RATE" "$V_HEAP0" "$V_HEAP1" "$V_BYTES" "$V_SAMPLES" "$V_Q" "${BENCH_DATA:-realistic}" "$PS_RATE" "$VS_RATE" "$XS_RATE" "$W_ROUNDS" <<'PY'
import sys
(series, p_rate, x_rate, ph0, ph1, xh0, xh1, pb, ps, xb, xs, pq, xq, prep, xrep, v_rate, vh0, vh1, vb, vs, vq, data,
 ps_rate, vs_rate, xs_rate, w_rounds) = sys.argv[1:]
series = int(series)
p_mem = (float(ph1) - float(ph0)) / series
x_mem = (float(xh1) - float(xh0)) * 1024 / series
p_bps = float(pb) / max(1, float(ps))
x_bps = float(xb) / max(1, float(xs))
v_mem = (float(vh1) - float(vh0)) / series
v_bps = float(vb) / max(1, float(vs))
rows = [
  ("", "Prometheus 2.42", "VictoriaM. 1.79", "Pilothouse", "vs Prom", "vs VM"),
  ("bytes/sample on disk", f"{p_bps:.3f}", f"{v_bps:.3f}", f"{x_bps:.3f}", f"{x_bps/p_bps:.2f}", f"{x_bps/v_bps:.2f}"),
  ("ingest samples/s (1 core)", f"{float(p_rate):.0f}", f"{float(v_rate):.0f}", f"{float(x_rate):.0f}", f"{float(x_rate)/float(p_rate):.2f}", f"{float(x_rate)/float(v_rate):.2f}"),
  (f"  after {w_rounds}x the warm-up", f"{float(ps_rate):.0f}", f"{float(vs_rate):.0f}", f"{float(xs_rate):.0f}", f"{float(xs_rate)/float(ps_rate):.2f}", f"{float(xs_rate)/float(vs_rate):.2f}"),
  ("heap bytes/series", f"{p_mem:.0f}", f"{v_mem:.0f}", f"{x_mem:.0f}", f"{x_mem/p_mem:.2f}", f"{x_mem/v_mem:.2f}"),
  ("WAL replay s", f"{float(prep):.3f}", "-", f"{float(xrep):.3f}", f"{float(xrep)/max(1e-9,float(prep)):.2f}", "-"),
  ("query suite p50 ms", f"{float(pq):.1f}", f"{float(vq):.1f}", f"{float(xq):.1f}", f"{float(xq)/float(pq):.2f}", f"{float(xq)/float(vq):.2f}"),
]
print(f"data: {data}; every store holds every sample it was sent; Pilothouse's query answers equal Prometheus's")
for r in rows:
  print(f"{r[0]:<28}{r[1]:>16}{r[2]:>16}{r[3]:>12}{r[4]:>9}{r[5]:>7}")
print(f"bytes_per_sample={x_bps:.3f} ingest_vs_prometheus={float(x_rate)/float(p_rate):.2f} "
      f"mem_per_series_vs_prometheus={x_mem/p_mem:.2f} query_p50_vs_prometheus={float(xq)/float(pq):.2f} "
      f"bytes_per_sample_vs_victoriametrics={x_bps/v_bps:.2f} ingest_vs_victoriametrics={float(x_rate)/float(v_rate):.2f} "
      f"steady_ingest_vs_prometheus={float(xs_rate)/float(ps_rate):.2f} steady_ingest_vs_victoriametrics={float(xs_rate)/float(vs_rate):.2f}")
PY
