#!/usr/bin/env bash
# Backups against restic (Debian's package) on the same data on this machine (issue 15).
#
# Ours as users run it: the daemon (`pilothouse up`, its default JVM settings) with a service
# whose backup plan covers the data, driven by `pilothouse backup run` and `pilothouse restore
# --target` (each timed from the CLI's start to its end). The daemon first backs up the same data
# into a second repository, as a daemon that has been running backups has (its JIT warm); that
# cold run is printed too. restic 0.14: `restic backup` and `restic restore latest`, each timed
# from its start (its key derivation included, as ours is in the CLI's start-up).
#
# Each timed pass starts after a `sync` (the previous pass's writes flushed), on both sides.
# Passes: first backup into an empty repository; an unchanged re-backup; a changed pass (one file
# in 50 appended to); restores of the latest snapshot into empty directories (two each, in the
# order restic, ours, ours, restic; the faster of each side's counts). Both sides read
# the same data from the page cache (it is read once before the first pass). The restored trees
# are compared (file count and bytes) so that both sides did the same work.
#
# Usage: bench/backup.sh [DATA]     (default: a copy of /usr/share)
# Last line: backup_vs_restic_first=X backup_vs_restic_unchanged=Y restore_vs_restic=Z size_vs_restic=W
# (throughput ratios: above 1 means Pilothouse is faster; size: below 1 means smaller)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$HERE/scripts/find-java.sh"
JAVA="$(find_java)"
JDK_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
if ! command -v restic >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic >/dev/null
  else
    echo "needs restic: apt-get install restic" >&2
    exit 1
  fi
fi

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

if [ $# -ge 1 ]; then
  DATA="$(readlink -f "$1")"
else
  echo "copying /usr/share (the changed pass writes to the copy)" >&2
  DATA="$T/data"
  cp -a /usr/share "$DATA"
fi
export SHOP_BACKUP_PASSWORD="bench-$(head -c 12 /dev/urandom | base64)"
export RESTIC_PASSWORD="$SHOP_BACKUP_PASSWORD"
cat >"$T/spec.yaml" <<EOF
repositories:
  warm: {path: $T/warm-repo, passwordEnv: SHOP_BACKUP_PASSWORD}
  ours: {path: $T/ours-repo, passwordEnv: SHOP_BACKUP_PASSWORD}
services:
  warm:
    command: /bin/sleep
    args: ["1000000"]
    backup: {paths: ["$DATA"], repository: warm}
  data:
    command: /bin/sleep
    args: ["1000000"]
    backup: {paths: ["$DATA"], repository: ours}
EOF
pilothouse up -d -f "$T/spec.yaml" >/dev/null
DAEMON_PID="$(python3 -c "import json;print(json.load(open('$STATE_DIR/daemon.json'))['pid'])")"

# Dirty pages of one side's pass must not slow the other's: each timed pass starts after a sync.
now() { sync; date +%s.%N; }
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

du -sb "$DATA" | awk '{printf "data: %s bytes", $1}' >&2
echo " in $(find "$DATA" -type f | wc -l) files" >&2
cat "$DATA" >/dev/null 2>&1 || find "$DATA" -type f -exec cat {} + >/dev/null 2>&1 || true

t0=$(now); pilothouse backup run warm >/dev/null; t1=$(now)
echo "pilothouse cold first backup (JIT warming up): $(secs $t0 $t1) s" >&2

restic init -q -r "$T/restic-repo"
t0=$(now); /usr/bin/time -f "%M" -o "$T/restic-mem" restic -q -r "$T/restic-repo" backup "$DATA" >/dev/null; t1=$(now)
R_FIRST=$(secs $t0 $t1)
t0=$(now); pilothouse backup run data >/dev/null; t1=$(now)
O_FIRST=$(secs $t0 $t1)
echo "first backup: restic ${R_FIRST} s, pilothouse ${O_FIRST} s" >&2

t0=$(now); restic -q -r "$T/restic-repo" backup "$DATA" >/dev/null; t1=$(now)
R_UNCH=$(secs $t0 $t1)
t0=$(now); pilothouse backup run data >/dev/null; t1=$(now)
O_UNCH=$(secs $t0 $t1)
echo "unchanged re-backup: restic ${R_UNCH} s, pilothouse ${O_UNCH} s" >&2

find "$DATA" -type f | awk 'NR % 50 == 0' | while read -r f; do echo "changed $RANDOM" >>"$f" 2>/dev/null || true; done
t0=$(now); restic -q -r "$T/restic-repo" backup "$DATA" >/dev/null; t1=$(now)
R_CHG=$(secs $t0 $t1)
t0=$(now); pilothouse backup run data >/dev/null; t1=$(now)
O_CHG=$(secs $t0 $t1)
echo "changed pass (1 file in 50): restic ${R_CHG} s, pilothouse ${O_CHG} s" >&2

# A restore is mostly the kernel creating 47,000 files, and on this VM that cost swings up to
# fourfold from one minute to the next (20,000 empty files: 1.3 s, then 5 s). So each side restores
# twice, in the order restic, ours, ours, restic (neither always runs after the other), and each
# side's faster restore counts.
restic_restore() {
  t0=$(now); restic -q -r "$T/restic-repo" restore latest --target "$1" >/dev/null; t1=$(now)
  secs $t0 $t1
}
ours_restore() {
  t0=$(now); pilothouse restore data --target "$1" >/dev/null; t1=$(now)
  secs $t0 $t1
}
faster() { python3 -c "print(min($1, $2))"; }
R_REST1=$(restic_restore "$T/restic-out")
O_REST1=$(ours_restore "$T/ours-out")
O_REST2=$(ours_restore "$T/ours-out2")
R_REST2=$(restic_restore "$T/restic-out2")
R_REST=$(faster $R_REST1 $R_REST2)
O_REST=$(faster $O_REST1 $O_REST2)
echo "restore (restic, ours, ours, restic): restic ${R_REST1} s and ${R_REST2} s, pilothouse ${O_REST1} s and ${O_REST2} s" >&2
echo "restore (the faster of each): restic ${R_REST} s, pilothouse ${O_REST} s" >&2

R_TREE="$T/restic-out$DATA"; O_TREE="$T/ours-out$DATA"
RF=$(find "$R_TREE" -type f | wc -l); OF=$(find "$O_TREE" -type f | wc -l)
RB=$(find "$R_TREE" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
OB=$(find "$O_TREE" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "restored: restic $RF files $RB bytes, pilothouse $OF files $OB bytes" >&2
if [ "$RF" != "$OF" ] || [ "$RB" != "$OB" ]; then
  echo "the restored trees differ: not the same work" >&2
  exit 1
fi

R_SIZE=$(du -sb "$T/restic-repo" | awk '{print $1}')
O_SIZE=$(du -sb "$T/ours-repo" | awk '{print $1}')
echo "repository: restic $R_SIZE bytes, pilothouse $O_SIZE bytes" >&2
echo "peak memory: restic $(cat "$T/restic-mem") KiB (first backup); pilothouse daemon $(awk '/VmHWM/ {print $2}' /proc/$DAEMON_PID/status) KiB (whole daemon, all passes)" >&2

echo "backup_vs_restic_first=$(ratio $R_FIRST $O_FIRST) backup_vs_restic_unchanged=$(ratio $R_UNCH $O_UNCH) restore_vs_restic=$(ratio $R_REST $O_REST) size_vs_restic=$(ratio $O_SIZE $R_SIZE)"
