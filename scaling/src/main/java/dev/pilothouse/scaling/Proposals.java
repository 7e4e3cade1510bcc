package dev.pilothouse.scaling;

import dev.pilothouse.core.spec.Autoscale;
import java.util.List;
import java.util.OptionalInt;

/**
 * The instance count each kind of target proposes, as Kubernetes' replica calculator computes it:
 * the usage ratio (measured / target), nothing when it is within the tolerance, else the count that
 * brings it to 1. Per-instance measurements (CPU, memory) treat instances that are not ready or
 * still warming up conservatively: they are left out, or counted as idle when the service must grow
 * and as at their target when it would shrink, and a change those assumptions reverse is not made.
 */
final class Proposals {
  private Proposals() {}

  /** One instance's measurement of a per-instance target. */
  record Instance(boolean counted, Double value) {
    /** Ready and warmed up, with a measurement. */
    static Instance of(double value) {
      return new Instance(true, value);
    }

    /** Ready and warmed up, but not measured. */
    static Instance missing() {
      return new Instance(true, null);
    }

    /** Not ready yet, or still warming up: its measurement is not trusted. */
    static Instance warming() {
      return new Instance(false, null);
    }
  }

  static boolean within(Autoscale.Tolerance t, double ratio) {
    return ratio > 1 ? ratio - 1 <= t.up() : 1 - ratio <= t.down();
  }

  /**
   * A per-instance average (CPU, memory: HPA's Resource and Pods metrics): empty when no counted
   * instance has a measurement.
   */
  static OptionalInt perInstance(
      List<Instance> instances, double target, int current, Autoscale.Tolerance tolerance) {
    int ready = 0;
    int missing = 0;
    int unready = 0;
    double sum = 0;
    for (Instance i : instances) {
      if (!i.counted()) {
        unready++;
      } else if (i.value() == null) {
        missing++;
      } else {
        ready++;
        sum += i.value();
      }
    }
    if (ready == 0) {
      return OptionalInt.empty();
    }
    double ratio = sum / ready / target;
    if (missing == 0 && unready == 0) {
      return within(tolerance, ratio) ? OptionalInt.of(current) : ceil(ratio * ready);
    }
    // Conservative: missing instances count as at their target when the service would shrink and
    // as idle when it would grow; instances not yet trusted count as idle, and only when it would
    // grow (else they are left out).
    double filled = sum;
    int n = ready;
    if (missing > 0) {
      filled += ratio < 1 ? missing * target : 0;
      n += missing;
    }
    if (unready > 0 && ratio > 1) {
      n += unready;
    }
    double newRatio = filled / n / target;
    if (within(tolerance, newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) {
      return OptionalInt.of(current);
    }
    int proposed = (int) Math.min(Integer.MAX_VALUE, Math.ceil(newRatio * n));
    if ((newRatio < 1 && proposed > current) || (newRatio > 1 && proposed < current)) {
      return OptionalInt.of(current);
    }
    return OptionalInt.of(proposed);
  }

  /**
   * A total held at a value per instance (requests per second, in flight, a query: HPA's External
   * metric with an average value): within the tolerance of what current instances are meant to
   * carry, nothing changes; else the count that carries the total.
   */
  static OptionalInt total(
      double total, double perInstance, int current, Autoscale.Tolerance tolerance) {
    double ratio = total / (perInstance * Math.max(1, current));
    return within(tolerance, ratio) ? OptionalInt.of(current) : ceil(total / perInstance);
  }

  /**
   * A value the service as a whole should hold (latency: HPA's Object metric with a value): the
   * ready instances scaled by the ratio.
   */
  static OptionalInt value(
      double value, double target, int ready, int current, Autoscale.Tolerance tolerance) {
    double ratio = value / target;
    if (within(tolerance, ratio) || ready == 0) {
      return OptionalInt.of(current);
    }
    return ceil(ratio * ready);
  }

  private static OptionalInt ceil(double x) {
    // A count is never computed from noise below a millionth of an instance (0.5 * 2 = 1.0000001).
    return OptionalInt.of((int) Math.min(Integer.MAX_VALUE, Math.ceil(x - 1e-6)));
  }
}
