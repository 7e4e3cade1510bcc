package dev.pilothouse.core.instance;

import dev.pilothouse.core.health.Probers;
import dev.pilothouse.core.runtime.LocalProcessRuntime;
import dev.pilothouse.core.runtime.LogFiles;
import dev.pilothouse.core.runtime.LogStreamer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract on the local runtime: real processes (setsid, signals, log files), real exec checks.
 * Where the instance records live is the subclass's: in memory here ({@link
 * LocalWorkloadsContractTest}), in SQLite and PostgreSQL in the store module's tests. Each {@link
 * #open()} is a daemon (re)starting over the same state directory and the same records.
 */
public abstract class LocalRuntimeContract extends WorkloadsContract {
  @TempDir static Path state;
  private final ExecutorService probes = Probers.virtualThreads();
  private final AtomicInteger ids = new AtomicInteger();
  private LogFiles logFiles;
  private LocalProcessRuntime runtime;

  /** The instance records of a daemon starting now (a fresh connection to the same place). */
  protected abstract InstanceRepository repository();

  @Override
  protected Workloads open() {
    InstanceRepository repo = repository();
    logFiles = new LogFiles(state.resolve("logs"), 1 << 20, 5, Clock.systemUTC());
    runtime = LocalProcessRuntime.create(state, logFiles);
    return InstanceController.create(
        new InstanceController.Options(
            runtime,
            repo,
            sink,
            Probers.real(probes),
            Probers.freePorts(),
            Clock.systemUTC(),
            new SplittableRandom(3),
            () -> "i" + System.nanoTime() % 100_000 + ids.incrementAndGet()));
  }

  @Override
  protected InstanceLogs logs() {
    return new LogStreamer(logFiles);
  }

  @Override
  protected void crash(InstanceStatus instance) {
    ProcessHandle.of(instance.pid()).orElseThrow().destroyForcibly();
  }

  @Override
  protected void cleanUp(Workloads w) {
    stopInstances(w);
  }

  /** Stops what the test started and whatever an abandoned (pre-"restart") controller left. */
  protected final void stopInstances(Workloads w) {
    w.stopAll();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!w.idle() && System.nanoTime() < deadline) {
      w.tick();
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    runtime.reapOrphans(Set.of()); // anything an abandoned (pre-"restart") controller left
  }

  @AfterEach
  void stopProbes() {
    probes.close();
  }
}
