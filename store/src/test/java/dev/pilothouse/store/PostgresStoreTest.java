package dev.pilothouse.store;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * The store's contract — every test of {@link SqliteStoreTest} — on a real PostgreSQL (Debian's,
 * started here): the same migrations' versions, the same repository ports, the same hash chain.
 * Each test gets a database of its own; reopening the store reconnects to it.
 */
class PostgresStoreTest extends SqliteStoreTest {
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

  @BeforeEach
  void database() throws Exception {
    url = pg.newDatabase();
  }

  @Override
  SqliteStore open() {
    return SqliteStore.postgres(url, "postgres", "", clock);
  }

  @Test
  @Override
  @Disabled(
      "upgrades a SQLite file written by the 0.x schema; PostgreSQL starts at the typed records")
  void rowsWrittenBeforeStrategyTypes_areMigratedOnce_toTheTypedRecords() {}

  @Test
  void oneDaemonPerDatabase_theSecondIsRefused_untilTheFirstLetsGo() {
    try (SqliteStore first = open()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(this::open)
          .isInstanceOf(StoreException.class)
          .hasMessageStartingWith("another Pilothouse daemon uses the database " + url);
      org.assertj.core.api.Assertions.assertThat(first.latest()).isEmpty();
    }
    try (SqliteStore again = open()) {
      org.assertj.core.api.Assertions.assertThat(again.latest()).isEmpty();
    }
  }

  @Test
  void anUnreachableServer_failsWithWhatWasAttempted() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> SqliteStore.postgres("jdbc:postgresql://127.0.0.1:1/none", "postgres", "", clock))
        .isInstanceOf(StoreException.class)
        .hasMessageStartingWith("opening the store at jdbc:postgresql://127.0.0.1:1/none: ");
  }

  @Test
  @Override
  @Disabled("about a SQLite file that cannot be read; PostgreSQL's failures are connection errors")
  void unreadableFile_failsWithWhatWasAttempted() {}
}
