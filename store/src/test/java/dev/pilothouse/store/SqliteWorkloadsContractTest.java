package dev.pilothouse.store;

import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.io.TempDir;

/** The runtime contract with the instance records in a SQLite file. */
class SqliteWorkloadsContractTest extends StoreWorkloads {
  @TempDir Path dir;

  @Override
  SqliteStore openStore() {
    return SqliteStore.open(dir.resolve("pilothouse.db"), Clock.systemUTC());
  }
}
