package dev.pilothouse.core.flags;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.spec.Strategy;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Runs a gradual flag change's checks (they do I/O); one verdict per check. */
public interface FlagChecks {
  CompletableFuture<List<Verdict>> run(FlagRollout rollout, List<Strategy.Check> checks);
}
