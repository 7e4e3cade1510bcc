#!/usr/bin/env bash
# Runs the JMH benchmarks (routing and balancing, ResponseBenchmark: reading an answer,
# RemoteWriteDecodeBenchmark: decoding a remote-write request, DetectorBenchmark): bench/jmh.sh [JMH options]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
(cd "$HERE" && JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" mvn -q -B -DskipTests -Dspotless.check.skip=true -pl bench -am install) >&2
exec "$JAVA" -cp "$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*" org.openjdk.jmh.Main "${@:-RoutingBenchmark}"
