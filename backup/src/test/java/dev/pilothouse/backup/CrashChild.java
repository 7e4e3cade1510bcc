package dev.pilothouse.backup;

import java.nio.file.Path;
import java.time.Clock;

/** A process for {@link CrashTest} to kill: {@code backup REPO SRC} or {@code prune REPO TMP}. */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    Backend b = new LocalBackend(Path.of(args[1]));
    if (args[0].equals("backup")) {
      try (Repository r = TestRepos.open(b)) {
        TestRepos.backup(r, Path.of(args[2]), null);
      }
    } else {
      try (Repository r = Repository.openTreesOnly(b, TestRepos.PASSWORD, Clock.systemUTC())) {
        Pruner.prune(r, 0.0, false, Path.of(args[2]));
      }
    }
    System.exit(0);
  }
}
