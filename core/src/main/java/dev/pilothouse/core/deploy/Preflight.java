package dev.pilothouse.core.deploy;

import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Instant;
import java.util.List;

/** Checks a new version must pass before it is deployed (port; the host implements it). */
public interface Preflight {

  /**
   * One check's outcome.
   *
   * @param check its short name (freeze, artifact, resources, port, …)
   */
  record Result(String check, boolean passed, String message) {}

  /** Every check of next, at now; a freeze window holds unless ignoreFreeze. */
  List<Result> check(ServiceSpec next, Instant now, boolean ignoreFreeze);

  /**
   * Every check of next as a service of spec: where the spec runs it (this machine or a cluster)
   * decides which checks apply.
   */
  default List<Result> check(
      dev.pilothouse.core.spec.Spec spec, ServiceSpec next, Instant now, boolean ignoreFreeze) {
    return check(next, now, ignoreFreeze);
  }

  /** No checks. */
  static Preflight none() {
    return (next, now, ignoreFreeze) -> List.of();
  }
}
