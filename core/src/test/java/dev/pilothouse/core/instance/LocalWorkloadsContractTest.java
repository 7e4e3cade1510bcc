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
 * The instance records live in memory ({@link Fakes.Repo}, kept across "restarts"); in the daemon
 * the store keeps them, and has its own contract tests.
 */
class LocalWorkloadsContractTest extends WorkloadsContract {
  @TempDir static Path state;
  private final Fakes.Repo repo = new Fakes.Repo();
  private final ExecutorService probes = Probers.virtualThreads();
  private final AtomicInteger ids = new AtomicInteger();
  private LogFiles logFiles;
  private LocalProcessRuntime runtime;

  @Override
  protected Workloads open() {
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
