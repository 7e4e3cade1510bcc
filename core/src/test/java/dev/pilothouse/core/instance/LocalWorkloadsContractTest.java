package dev.pilothouse.core.instance;

/**
 * The contract on the local runtime with its instance records in memory ({@link Fakes.Repo}, kept
 * across "restarts"); the store module runs it again with SQLite and PostgreSQL holding them.
 */
class LocalWorkloadsContractTest extends LocalRuntimeContract {
  private final Fakes.Repo repo = new Fakes.Repo();

  @Override
  protected InstanceRepository repository() {
    return repo;
  }
}
