#!/usr/bin/env bash
# Cost ledger against DuckDB on the same generated FOCUS bill on this machine (issue 17).
#
# The bill: GeneratedBill's FOCUS 1.0 CSV (43 columns, three providers, seven billing accounts,
# hourly usage of compute, storage and network resources, commitments, taxes and credits; about
# 490 bytes a row), ROWS rows (default 10 million, about 4.9 GB).
#
# Ours as users run it: the daemon (`pilothouse up`, its default JVM settings: 512 MiB heap, serial
# GC) and `pilothouse cost ingest FILE`, then `pilothouse cost report --by service -o json`, each
# timed as a whole process from the CLI's start to its end. DuckDB 1.4 (its JDBC driver, in a JVM of
# its own, with every core): `CREATE TABLE … AS SELECT * FROM read_csv(…)` into a database file with
# the costs as DECIMAL(38,12) (exact, like ours), then `SELECT ServiceName, sum(…) … GROUP BY`, each
# timed as a whole process too. Reports run three times each; the fastest of each side counts.
# Both sides must find the same total BilledCost as the generator wrote (checked; the script fails
# otherwise), and the sizes on disk are compared.
#
# Usage: bench/cost.sh [ROWS]
# Last line: ingest_vs_duckdb=X report_vs_duckdb=Y size_vs_duckdb=Z rows=N
# (time ratios: above 1 means Pilothouse is faster; size: below 1 means smaller)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
ROWS="${1:-10000000}"

T="$(mktemp -d)"
STATE_DIR="$T/state"
cleanup() {
  PILOTHOUSE_STATE_DIR="$STATE_DIR" "$HERE/pilothouse" down >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
pilothouse() { PILOTHOUSE_STATE_DIR="$STATE_DIR" "$HERE/pilothouse" "$@"; }

echo "building" >&2
(cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -o -DskipTests -Dspotless.check.skip=true install >&2) \
  || (cd "$HERE" && JAVA_HOME="$JDK_HOME" mvn -q -B -DskipTests -Dspotless.check.skip=true install >&2)
touch "$HERE/dist/target/lib/.built"
export PILOTHOUSE_NO_BUILD=1
CP="$HERE/bench/target/pilothouse-bench-0.1.0-SNAPSHOT.jar:$HERE/bench/target/lib/*"

echo "writing a $ROWS-row bill" >&2
EXPECTED="$("$JAVA" -cp "$HERE/dist/target/lib/*" dev.pilothouse.cost.GeneratedBill "$T/bill.csv" "$ROWS" 1 2024-09)"
BYTES="$(stat -c %s "$T/bill.csv")"
cat "$T/bill.csv" >/dev/null # both sides read it from the page cache

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
same() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; }

cat >"$T/spec.yaml" <<SPEC
services:
  idle:
    command: /bin/sleep
    args: ["1000000"]
SPEC
pilothouse up -d -f "$T/spec.yaml" >/dev/null

sync
t0="$(now)"
pilothouse cost ingest -o json "$T/bill.csv" >"$T/ingest.json"
OURS_INGEST="$(secs "$t0" "$(now)")"
OURS_BILLED="$(grep -o '"billedCost" : "[^"]*"' "$T/ingest.json" | tail -1 | sed 's/.*: "//; s/"//')"
OURS_REPORT=""
for i in 1 2 3; do
  t0="$(now)"
  pilothouse cost report --by service -o json >"$T/report.json"
  s="$(secs "$t0" "$(now)")"
  if [ -z "$OURS_REPORT" ] || awk -v a="$s" -v b="$OURS_REPORT" 'BEGIN { exit !(a < b) }'; then OURS_REPORT="$s"; fi
done
OURS_TOTAL="$("$JAVA" -cp "$CP" dev.pilothouse.bench.CostPeer total "$T/report.json")"
OURS_SIZE="$(du -sb "$STATE_DIR/cost/slices" | cut -f1)"
pilothouse down >/dev/null

sync
t0="$(now)"
DUCK_LOAD_OUT="$("$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.pilothouse.bench.CostPeer load "$T/duck.db" "$T/bill.csv")"
DUCK_INGEST="$(secs "$t0" "$(now)")"
DUCK_BILLED="$(echo "$DUCK_LOAD_OUT" | sed 's/.*billed=//')"
DUCK_REPORT=""
for i in 1 2 3; do
  t0="$(now)"
  DUCK_REPORT_OUT="$("$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.pilothouse.bench.CostPeer report "$T/duck.db")"
  s="$(secs "$t0" "$(now)")"
  if [ -z "$DUCK_REPORT" ] || awk -v a="$s" -v b="$DUCK_REPORT" 'BEGIN { exit !(a < b) }'; then DUCK_REPORT="$s"; fi
done
DUCK_TOTAL="$(echo "$DUCK_REPORT_OUT" | sed 's/.*billed=//')"
DUCK_SIZE="$(stat -c %s "$T/duck.db")"

for v in "$OURS_BILLED" "$OURS_TOTAL" "$DUCK_BILLED" "$DUCK_TOTAL"; do
  if ! same "$v" "$EXPECTED"; then
    echo "the sides disagree: generator $EXPECTED, ours ingest $OURS_BILLED report $OURS_TOTAL, duckdb $DUCK_BILLED / $DUCK_TOTAL" >&2
    exit 1
  fi
done

printf 'bill: %s rows, %s bytes of CSV; total BilledCost %s on both sides\n' "$ROWS" "$BYTES" "$EXPECTED"
printf '%-10s %10s %10s %14s\n' side ingest_s report_s bytes
printf '%-10s %10s %10s %14s\n' pilothouse "$OURS_INGEST" "$OURS_REPORT" "$OURS_SIZE"
printf '%-10s %10s %10s %14s\n' duckdb "$DUCK_INGEST" "$DUCK_REPORT" "$DUCK_SIZE"
awk -v oi="$OURS_INGEST" -v di="$DUCK_INGEST" -v orp="$OURS_REPORT" -v dr="$DUCK_REPORT" \
  -v os="$OURS_SIZE" -v ds="$DUCK_SIZE" -v rows="$ROWS" \
  'BEGIN { printf "ingest_vs_duckdb=%.2f report_vs_duckdb=%.2f size_vs_duckdb=%.2f rows=%d\n", di / oi, dr / orp, os / ds, rows }'
