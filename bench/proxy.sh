#!/usr/bin/env bash
# Side-by-side reverse-proxy benchmark: direct vs Pilothouse vs nginx vs HAProxy.
#
# One small static response from one backend (nginx, 1 worker) for everyone. Each proxy runs
# one worker (nginx worker_processes 1, HAProxy nbthread 1, Pilothouse 1 event loop) with
# keep-alive to the client and pooled keep-alive connections to the backend. The load
# generator (wrk, 1 thread, keep-alive) is pinned to CPU 0; the proxy under test and the
# backend are pinned to CPU 1, so the proxy's own CPU cost decides its throughput. Each target
# gets three warm-up runs first (the JVM compiles its hot paths, including the ones of closing
# and opening connections between runs), then a measured run.
#
# Usage: bench/proxy.sh [DURATION_SECONDS] [CONNECTIONS]
# Last line: pilothouse_vs_nginx_rps=X pilothouse_vs_haproxy_rps=Y pilothouse_vs_nginx_p99=Z
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-15}"
CONNS="${2:-64}"
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
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
if [ ! -d "$HERE/bench/target/lib" ] || [ ! -f "$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar" ]; then
  echo "building the bench module" >&2
  (cd "$HERE" && JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" mvn -q -B -DskipTests -Dspotless.check.skip=true -pl bench -am install) >&2
fi

T="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

BACKEND=18081; NGINX=18082; HAPROXY=18083; PILOT=18084

cat > "$T/backend.conf" <<CONF
worker_processes 1;
daemon off;
pid $T/backend.pid;
error_log $T/backend.err warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$BACKEND; location / { return 200 "hello from the backend\n"; } }
}
CONF
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

start "$SERVER_CPU" nginx -p "$T" -c "$T/backend.conf"
wait_port "$BACKEND"
start "$SERVER_CPU" nginx -p "$T" -c "$T/nginx.conf"
start "$SERVER_CPU" haproxy -db -f "$T/haproxy.cfg"
JOPTS=(-XX:+UseSerialGC -Xms256m -Xmx256m -XX:+AlwaysPreTouch --enable-native-access=ALL-UNNAMED
  -Dio.netty.leakDetection.level=disabled -Dio.netty.tryReflectionSetAccessible=true
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED)
# JDK 23+ warns about (and Netty then avoids) sun.misc.Unsafe unless it is allowed explicitly.
[ "$(java_major "$JAVA" | cut -d. -f1)" -ge 23 ] && JOPTS+=(--sun-misc-unsafe-memory-access=allow)
start "$SERVER_CPU" "$JAVA" "${JOPTS[@]}" \
  -cp "$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*" \
  dev.pilothouse.bench.ProxyServer --port "$PILOT" --threads 1 --backend "127.0.0.1:$BACKEND"
for p in $NGINX $HAPROXY $PILOT; do wait_port "$p"; done

to_ms() { # wrk latency like 512.00us, 1.23ms, 1.05s
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

declare -A RPS P50 P99
run() { # name port
  local name="$1" port="$2" out
  # Several warm-up runs, not one: the end of a run closes every connection, and a JIT first
  # meeting that path deoptimizes hot methods and recompiles them during the next run.
  for _ in $(seq 1 "$WARMUP_RUNS"); do
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$port/" >/dev/null
  done
  out="$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$port/")"
  echo "$out" > "$T/wrk-$name.txt"
  if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
    echo "warning: $name had errors:" >&2; echo "$out" | grep -E 'Non-2xx|Socket errors' >&2
  fi
  RPS[$name]="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  P50[$name]="$(to_ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")"
  P99[$name]="$(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")"
}

run direct "$BACKEND"
run pilothouse "$PILOT"
run nginx "$NGINX"
run haproxy "$HAPROXY"

echo
printf "%-12s %12s %10s %10s\n" target "req/s" "p50 ms" "p99 ms"
for n in direct pilothouse nginx haproxy; do
  printf "%-12s %12s %10s %10s\n" "$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}"
done
echo "(wrk -t1 -c$CONNS, ${DURATION}s after ${WARMUP_RUNS} x ${WARMUP}s warm-up; client on CPU $CLIENT_CPU, proxy and backend on CPU $SERVER_CPU; $(nproc) CPUs)"
awk -v p="${RPS[pilothouse]}" -v n="${RPS[nginx]}" -v h="${RPS[haproxy]}" -v pp="${P99[pilothouse]}" -v np="${P99[nginx]}" \
  'BEGIN { printf "pilothouse_vs_nginx_rps=%.2f pilothouse_vs_haproxy_rps=%.2f pilothouse_vs_nginx_p99=%.2f\n", p / n, p / h, pp / np }'
