#!/usr/bin/env bash
# Side-by-side reverse-proxy benchmark, Pilothouse as shipped: direct vs Pilothouse (started by
# `pilothouse up` with the defaults users get, access log on) vs nginx vs HAProxy.
#
# The backend is one nginx instance (1 worker, 1 KiB answer) that Pilothouse itself runs from the
# spec; nginx and HAProxy proxy to that same instance. Each proxy runs one worker (nginx
# worker_processes 1, HAProxy nbthread 1; Pilothouse's data-plane process gets one event loop
# because it runs on one CPU) with keep-alive to the client and pooled keep-alive connections to
# the backend. The load generator (wrk, 1 thread, keep-alive) is pinned to CPU 0; everything else
# (the proxy under test, the backend, and for Pilothouse its daemon) to CPU 1, so the proxy's own
# CPU cost decides its throughput. Each target gets warm-up runs first (the JVM compiles its hot
# paths, including those of closing and opening connections between runs), then ROUNDS measured
# runs (default 3) taken in turns — round r measures every target once, starting from a different
# one each round — and each row is the median of its runs. This machine's speed drifts by tens of
# percent within minutes; measured one after the other, each target met a different machine.
# The row "pilothouse-epoll" is the transport users on kernels without io_uring get
# (PILOTHOUSE_PROXY_TRANSPORT=epoll); BARE=1 adds "bare", the data plane alone in a JVM of its own.
# ACCESS_LOG=false (or a spec value such as '{sample: 0.1}') measures another access-log setting.
#
# Usage: [ROUNDS=3] bench/proxy.sh [DURATION_SECONDS] [CONNECTIONS]   (DURATION: one measured run, default 10)
# Last line: pilothouse_vs_nginx_rps=X pilothouse_vs_haproxy_rps=Y pilothouse_vs_nginx_p99=Z
#            pilothouse_epoll_vs_nginx_rps=E shipped=1
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-10}"
ROUNDS="${ROUNDS:-3}"
CONNS="${2:-32}"
WARMUP="${WARMUP:-5}"
WARMUP_RUNS="${WARMUP_RUNS:-3}"
CLIENT_CPU=0
SERVER_CPU=1
[ "$(nproc)" -ge 2 ] || { CLIENT_CPU=0; SERVER_CPU=0; echo "warning: one CPU only; client and proxy share it" >&2; }

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v haproxy >/dev/null || need+=(haproxy)
command -v wrk >/dev/null || need+=(wrk)
command -v taskset >/dev/null || need+=(util-linux)
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
if [ "${BARE:-0}" = 1 ] && { [ ! -d "$HERE/bench/target/lib" ] || [ ! -f "$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar" ]; }; then
  echo "building the bench module" >&2
  (cd "$HERE" && JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" mvn -q -B -DskipTests -Dspotless.check.skip=true -pl bench -am install) >&2
fi

T="$(mktemp -d)"
PIDS=()
cleanup() {
  [ -d "$T/state" ] && PILOTHOUSE_STATE_DIR="$T/state" "$HERE/pilothouse" down >/dev/null 2>&1 || true
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

NGINX=18082; HAPROXY=18083; PILOT=18084; BAREPORT=18085
ANSWER="$(head -c 1023 /dev/zero | tr '\0' x)"

# The backend: an nginx instance run by Pilothouse on the port it assigns (${PORT}).
cat > "$T/backend.conf.in" <<CONF
worker_processes 1;
daemon off;
pid $T/backend-@PORT@.pid;
error_log $T/backend-@PORT@.err warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:@PORT@; location / { return 200 "$ANSWER\n"; } }
}
CONF
cat > "$T/shop.yaml" <<SPEC
version: 1
proxy:
  port: $PILOT
${ACCESS_LOG:+  accessLog: $ACCESS_LOG}
services:
  backend:
    command: /bin/sh
    args: [-c, 'sed "s/@PORT@/\$PORT/g" $T/backend.conf.in > $T/backend-\$PORT.conf && exec nginx -p $T -c $T/backend-\$PORT.conf']
    readiness: {http: /}
    route: {pathPrefix: /}
SPEC

start() { # cpu, then the command
  local cpu="$1"; shift
  taskset -c "$cpu" "$@" >"$T/$(basename "$1").$RANDOM.log" 2>&1 &
  PIDS+=("$!")
}
wait_port() {
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2; return 1
}
pilothouse() { PILOTHOUSE_STATE_DIR="$T/state" taskset -c "$SERVER_CPU" "$HERE/pilothouse" "$@"; }
backend_port() {
  pilothouse status -o json | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(next(i["port"] for v in s["services"] for i in v["instances"] if i["ready"]))'
}
proxy_transport() {
  pilothouse status -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["proxy"]["transport"])'
}

# Pilothouse as users start it: the daemon, its data-plane process and the backend instance all
# inherit CPU ${SERVER_CPU} from taskset.
pilothouse up -f "$T/shop.yaml" --detach --timeout 120 >"$T/up.log" 2>&1 || { cat "$T/up.log" >&2; exit 1; }
BACKEND="$(backend_port)"

cat > "$T/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $T/nginx.pid;
error_log $T/nginx.err warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  upstream backend { server 127.0.0.1:$BACKEND; keepalive 256; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:$NGINX;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
cat > "$T/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:$HAPROXY
  default_backend be
backend be
  server b1 127.0.0.1:$BACKEND maxconn 4096
CONF

start "$SERVER_CPU" nginx -p "$T" -c "$T/nginx.conf"
start "$SERVER_CPU" haproxy -db -f "$T/haproxy.cfg"
if [ "${BARE:-0}" = 1 ]; then
  JOPTS=(-XX:+UseSerialGC -Xms256m -Xmx256m -XX:+AlwaysPreTouch --enable-native-access=ALL-UNNAMED
    -Dio.netty.leakDetection.level=disabled -Dio.netty.tryReflectionSetAccessible=true
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED)
  [ "$(java_major "$JAVA" | cut -d. -f1)" -ge 23 ] && JOPTS+=(--sun-misc-unsafe-memory-access=allow)
  start "$SERVER_CPU" "$JAVA" "${JOPTS[@]}" \
    -cp "$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*" \
    dev.pilothouse.bench.ProxyServer --port "$BAREPORT" --threads 1 --backend "127.0.0.1:$BACKEND"
  wait_port "$BAREPORT"
fi
for p in $NGINX $HAPROXY $PILOT; do wait_port "$p"; done

to_ms() { # wrk latency like 512.00us, 1.23ms, 1.05s
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

declare -A RPS P50 P99 RUNS
warm() { # port
  # Several warm-up runs, not one: the end of a run closes every connection, and a JIT first
  # meeting that path deoptimizes hot methods and recompiles them during the next run.
  for _ in $(seq 1 "$WARMUP_RUNS"); do
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$1/" >/dev/null
  done
}
measure() { # name port: one measured run, appended to the name's runs as "rps p50 p99"
  local name="$1" port="$2" out run
  out="$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$port/")"
  echo "$out" >> "$T/wrk-$name.txt"
  if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
    echo "warning: $name had errors:" >&2; echo "$out" | grep -E 'Non-2xx|Socket errors' >&2
  fi
  run="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  run+=" $(to_ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")"
  run+=" $(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")"
  RUNS[$name]+="$run;"
  echo "$name: $run (req/s, p50 ms, p99 ms)" >&2
}
median() { # name field (1 rps, 2 p50, 3 p99)
  echo "${RUNS[$1]}" | tr ';' '\n' | awk -v f="$2" 'NF { print $f }' | sort -g \
    | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%s", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rounds() { # name:port ... — warm each, then ROUNDS rounds in turns
  local targets=("$@") n="$#" r k
  for t in "${targets[@]}"; do warm "${t#*:}"; done
  for r in $(seq 0 $((ROUNDS - 1))); do
    for k in $(seq 0 $((n - 1))); do
      t="${targets[$(((r + k) % n))]}"
      measure "${t%%:*}" "${t#*:}"
    done
  done
  for t in "${targets[@]}"; do
    RPS[${t%%:*}]="$(median "${t%%:*}" 1)"; P50[${t%%:*}]="$(median "${t%%:*}" 2)"; P99[${t%%:*}]="$(median "${t%%:*}" 3)"
  done
}

# The same answer from every target, or the comparison means nothing.
same_answer() { # port ...
  local p got
  for p in "$@"; do
    got="$(curl -s "http://127.0.0.1:$p/" | wc -c)"
    [ "$got" = 1024 ] || { echo "port $p answered $got bytes, not 1024" >&2; exit 1; }
  done
}
same_answer "$BACKEND" "$PILOT" "$NGINX" "$HAPROXY"

TARGETS=("direct:$BACKEND" "pilothouse:$PILOT" "nginx:$NGINX" "haproxy:$HAPROXY")
ROWS=(direct pilothouse)
if [ "${BARE:-0}" = 1 ]; then TARGETS+=("bare:$BAREPORT"); ROWS+=(bare); fi
rounds "${TARGETS[@]}"
TRANSPORT="$(proxy_transport)"
LOGGED="$(cat "$T/state/logs/access.log"* 2>/dev/null | wc -l)"

# Users on kernels without io_uring: the same, on epoll, in turns with nginx again (the ratio is
# taken against this phase's nginx runs, measured beside it).
pilothouse down >/dev/null
PILOTHOUSE_PROXY_TRANSPORT=epoll pilothouse up -f "$T/shop.yaml" --detach --timeout 120 >"$T/up2.log" 2>&1 \
  || { cat "$T/up2.log" >&2; exit 1; }
wait_port "$PILOT"
[ "$(proxy_transport)" = epoll ] || { echo "the epoll run is not on epoll: $(proxy_transport)" >&2; exit 1; }
[ "$(backend_port)" = "$BACKEND" ] || { # the new instance's port: nginx must proxy to it too
  BACKEND="$(backend_port)"
  sed -i "s/server 127.0.0.1:[0-9]*;/server 127.0.0.1:$BACKEND;/" "$T/nginx.conf"
  nginx -p "$T" -c "$T/nginx.conf" -s reload 2>/dev/null; sleep 1
}
same_answer "$PILOT" "$NGINX"
rounds "pilothouse-epoll:$PILOT" "nginx-epoll-phase:$NGINX"
ROWS+=(pilothouse-epoll nginx haproxy nginx-epoll-phase)

echo
printf "%-17s %12s %10s %10s\n" target "req/s" "p50 ms" "p99 ms"
for n in "${ROWS[@]}"; do
  printf "%-17s %12s %10s %10s\n" "$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}"
done
echo "(wrk -t1 -c$CONNS, 1 KiB answers, median of $ROUNDS runs of ${DURATION}s taken in turns, after ${WARMUP_RUNS} x ${WARMUP}s warm-up; client on CPU $CLIENT_CPU, proxy and backend on CPU $SERVER_CPU; $(nproc) CPUs;"
echo " pilothouse = 'pilothouse up' with default settings on $TRANSPORT, access log on: $LOGGED lines written)"
awk -v p="${RPS[pilothouse]}" -v n="${RPS[nginx]}" -v h="${RPS[haproxy]}" -v pp="${P99[pilothouse]}" -v np="${P99[nginx]}" -v e="${RPS[pilothouse-epoll]}" -v en="${RPS[nginx-epoll-phase]}" \
  'BEGIN { printf "pilothouse_vs_nginx_rps=%.2f pilothouse_vs_haproxy_rps=%.2f pilothouse_vs_nginx_p99=%.2f pilothouse_epoll_vs_nginx_rps=%.2f shipped=1\n", p / n, p / h, pp / np, e / en }'
