#!/usr/bin/env bash
# The cost of the store's durability setting: SQLite in WAL mode with synchronous=FULL (every
# commit fsynced; what Pilothouse runs) against NORMAL, per committed insert, on this disk.
# usage: bench/store-sync.sh [DIR]   (DIR: where the database files go; default: the state dir's disk)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../scripts/find-java.sh"
JAVA="$(find_java)"
VERSION=$(sed -n 's:.*<sqlite.version>\(.*\)</sqlite.version>.*:\1:p' "$HERE/../pom.xml")
JAR="$HOME/.m2/repository/org/xerial/sqlite-jdbc/$VERSION/sqlite-jdbc-$VERSION.jar"
[ -f "$JAR" ] || (cd "$HERE/.." && mvn -B -ntp -q dependency:get -Dartifact="org.xerial:sqlite-jdbc:$VERSION" >/dev/null)
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "$JAR" "$HERE/store/SyncCost.java" "${1:-${TMPDIR:-/tmp}}" 2>/dev/null
