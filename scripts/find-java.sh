# Sourced by ./pilothouse and ./test: sets JAVA to a java binary of version >= 21.
# Order: $JAVA_HOME (if >= 21), then the newest /usr/lib/jvm/*, then java on PATH.
java_major() {
  # A JDK's release file names its version: no JVM has to start (that took 0.25 s per candidate),
  # and bash alone reads it (each fork costs here too).
  local home="${1%/bin/java}" line
  if [ -r "$home/release" ]; then
    while IFS= read -r line; do
      if [[ $line =~ ^JAVA_VERSION=\"?(1\.)?([0-9]+) ]]; then
        echo "${BASH_REMATCH[2]}"
        return
      fi
    done <"$home/release"
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1
}

find_java() {
  local best="" best_v=0 cand v
  local path_java
  path_java="$(command -v java 2>/dev/null || true)"
  [ -n "$path_java" ] && path_java="$(readlink -f "$path_java")"
  for cand in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} /usr/lib/jvm/*/bin/java $path_java; do
    [ -x "$cand" ] || continue
    v="$(java_major "$cand")"; v="${v%%.*}"
    [ -n "$v" ] || continue
    if [ -n "${JAVA_HOME:-}" ] && [ "$cand" = "$JAVA_HOME/bin/java" ] && [ "$v" -ge 21 ]; then echo "$cand"; return; fi
    if [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best="$cand"; best_v="$v"; fi
  done
  if [ -z "$best" ]; then
    echo "pilothouse: needs Java 21 or newer, and none was found (JAVA_HOME, /usr/lib/jvm/*, PATH)." >&2
    echo "hint: install one (e.g. Temurin 21 or 25) under /usr/lib/jvm, or set JAVA_HOME." >&2
    return 1
  fi
  echo "$best"
}
