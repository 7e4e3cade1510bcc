package dev.pilothouse.store;

import java.sql.SQLException;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The runtime contract with the instance records in PostgreSQL (a database per test). */
class PostgresWorkloadsContractTest extends StoreWorkloads {
  private static TestPostgres pg;
  private String url;

  @BeforeAll
  static void startPostgres() throws Exception {
    pg = TestPostgres.start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (pg != null) {
      pg.close();
    }
  }

  @Override
  SqliteStore openStore() {
    try {
      if (url == null) { // the first open of a test (its @BeforeEach runs before any of ours)
        url = pg.newDatabase();
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return SqliteStore.postgres(url, "postgres", "", Clock.systemUTC());
  }
}
