#!/usr/bin/env bash
# Prune's memory against a repository's size: repositories of 1 and 3 million distinct 512-byte
# blobs (the shape of many small files: random, so neither deduplicated nor compressed; files of
# 100 blobs, directories of 1000 files, two snapshots of half the directories each) are written,
# then the older snapshot is forgotten and the repository pruned as the daemon does it
# (Pruner over the repository opened with its tree index only), in a JVM limited to 128 MiB of
# heap (SerialGC). Prints the peak heap and old generation of each prune; memory is bounded when
# the larger repository needs no more than the smaller one (and neither runs out of heap).
#
# Usage: bench/prune-memory.sh [DIR]      (default: a temporary directory; ~3 GB of disk)
# Last line: prune_peak_old_mib_1m=X prune_peak_old_mib_3m=Y heap_limit_mib=128 growth_3m_vs_1m=Z
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
echo "building" >&2
(cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -o -DskipTests -Dspotless.check.skip=true install -pl bench -am >&2) \
  || (cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -DskipTests -Dspotless.check.skip=true install -pl bench -am >&2)
CP="$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*"
DIR="${1:-$(mktemp -d)}"
trap 'rm -rf "$DIR"/1m "$DIR"/3m' EXIT
peak() {
  local n="$1" name="$2"
  rm -rf "${DIR:?}/$name"
  "$JAVA" -Xmx8g -cp "$CP" dev.pilothouse.bench.PruneMemory generate "$DIR/$name" "$n" 512 >&2
  local out
  out=$("$JAVA" -XX:+UseSerialGC -Xmx128m --enable-native-access=ALL-UNNAMED -cp "$CP" \
    dev.pilothouse.bench.PruneMemory prune "$DIR/$name" 2>&1) || { echo "$out" >&2; echo "prune of $n blobs failed" >&2; exit 1; }
  echo "$n blobs: $(echo "$out" | grep '^pruned')" >&2
  echo "$out" | sed -n 's/^peak_old_mib=//p'
}
ONE=$(peak 1000000 1m)
THREE=$(peak 3000000 3m)
echo "prune_peak_old_mib_1m=$ONE prune_peak_old_mib_3m=$THREE heap_limit_mib=128 growth_3m_vs_1m=$(awk -v a="$THREE" -v b="$ONE" 'BEGIN {printf "%.2f", a / b}')"
