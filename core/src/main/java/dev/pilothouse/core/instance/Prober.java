package dev.pilothouse.core.instance;

import dev.pilothouse.core.spec.Probe;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Runs one health check asynchronously. */
@FunctionalInterface
public interface Prober {

  /** Where a check is aimed. */
  record Target(String host, int port, Path workdir, Map<String, String> env) {}

  /** Completes with true when the check passed within the probe's timeout, false otherwise. */
  CompletableFuture<Boolean> check(Probe probe, Target target);
}
