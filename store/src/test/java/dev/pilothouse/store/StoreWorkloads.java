package dev.pilothouse.store;

import dev.pilothouse.core.instance.InstanceRepository;
import dev.pilothouse.core.instance.LocalRuntimeContract;
import dev.pilothouse.core.instance.Workloads;
import java.util.ArrayList;
import java.util.List;

/**
 * The runtime contract-test kit on the local runtime with its instance records in a store: a daemon
 * "restart" opens the store again (a new connection to the same file or database) and must adopt
 * what runs from what it reads there. Every store a test opened is closed after it.
 */
abstract class StoreWorkloads extends LocalRuntimeContract {
  private final List<SqliteStore> opened = new ArrayList<>();

  /** A new connection to the test's store. */
  abstract SqliteStore openStore();

  @Override
  protected InstanceRepository repository() {
    SqliteStore s = openStore();
    opened.add(s);
    return s;
  }

  @Override
  protected void cleanUp(Workloads w) {
    stopInstances(w);
    opened.forEach(SqliteStore::close);
  }
}
