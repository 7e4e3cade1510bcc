package dev.pilothouse.scaling;

import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Autoscale.Behavior;
import dev.pilothouse.core.spec.Autoscale.Policy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * How far one decision may move a service's count, as Kubernetes' HPA limits it: the stabilization
 * windows (scaling down to the highest recommendation of the window, up to the lowest), then the
 * rate policies of the direction, measured from the count at each policy period's start, then min
 * and max. It remembers the recommendations and the changes made; one per autoscaled service.
 */
final class Limiter {
  private record Recommendation(Instant at, int replicas) {}

  private record Change(Instant at, int delta) {}

  /** The count allowed and, when it differs from the recommendation, what held it back. */
  record Result(int replicas, String limitedBy) {}

  private final Deque<Recommendation> recommendations = new ArrayDeque<>();
  private final Deque<Change> changes = new ArrayDeque<>();

  /**
   * Starts as if the count had been recommended throughout the scale-down window: a restarted
   * daemon does not shrink a service it has just re-adopted.
   */
  Limiter(Instant now, int current) {
    recommendations.add(new Recommendation(now, current));
  }

  /** The count to run, given the targets' proposal (held within min and max). */
  Result limit(Instant now, int current, int proposed, Autoscale a) {
    return limit(now, current, proposed, a, a.min(), a.max());
  }

  /** The count to run, held within floor and cap (min and max, or what a schedule sets). */
  Result limit(Instant now, int current, int proposed, Autoscale a, int floor, int cap) {
    forget(now, a);
    int up = proposed;
    int down = proposed;
    Instant upFrom = now.minus(a.scaleUp().stabilization());
    Instant downFrom = now.minus(a.scaleDown().stabilization());
    for (Recommendation r : recommendations) {
      if (r.at().isAfter(upFrom)) {
        up = Math.min(up, r.replicas());
      }
      if (r.at().isAfter(downFrom)) {
        down = Math.max(down, r.replicas());
      }
    }
    recommendations.add(new Recommendation(now, proposed));
    int desired = current;
    String why = "";
    if (desired < up) {
      desired = up;
    }
    if (desired > down) {
      desired = down;
    }
    if (desired < proposed && proposed > current) {
      why =
          "scaleUp stabilization ("
              + seconds(a.scaleUp().stabilization())
              + "): the lowest recommendation in the window is "
              + desired;
    } else if (desired > proposed && proposed < current) {
      why =
          "scaleDown stabilization ("
              + seconds(a.scaleDown().stabilization())
              + "): the highest recommendation in the window is "
              + desired;
    }
    if (desired > current) {
      Bound b = limit(now, current, a.scaleUp(), true);
      int allowed = Math.min(cap, Math.max(current, b.replicas()));
      if (desired > allowed) {
        why = allowed == cap && b.replicas() >= cap ? "max " + cap : b.why();
        desired = allowed;
      }
    } else if (desired < current) {
      Bound b = limit(now, current, a.scaleDown(), false);
      int allowed = Math.max(floor, Math.min(current, b.replicas()));
      if (desired < allowed) {
        why = allowed == floor && b.replicas() <= floor ? "min " + floor : b.why();
        desired = allowed;
      }
    }
    return new Result(desired, why);
  }

  /** Records a change made (the decision was carried out). */
  void changed(Instant now, int from, int to) {
    if (from != to) {
      changes.add(new Change(now, to - from));
    }
  }

  private record Bound(int replicas, String why) {}

  /**
   * The furthest the count may move in one direction: each policy allows so many instances (or
   * percent) from the count at its period's start; MAX takes the policy allowing the most change,
   * MIN the least.
   */
  private Bound limit(Instant now, int current, Behavior b, boolean up) {
    String direction = up ? "scaleUp" : "scaleDown";
    if (b.select() == Behavior.Select.DISABLED) {
      return new Bound(current, direction + " is disabled (selectPolicy: disabled)");
    }
    Bound best = null;
    for (Policy p : b.policies()) {
      int start =
          current - changedWithin(now, p.period(), true) + changedWithin(now, p.period(), false);
      int proposed;
      if (p.kind() == Policy.Kind.INSTANCES) {
        proposed = up ? start + (int) p.value() : start - (int) p.value();
      } else {
        // Up rounds up so that a small count can grow at all; down truncates, as HPA does.
        proposed =
            up
                ? (int) Math.ceil(start * (1 + p.value() / 100))
                : (int) (start * (1 - p.value() / 100));
      }
      boolean moreChange = up ? proposed > best(best) : proposed < best(best);
      if (best == null || (b.select() == Behavior.Select.MAX) == moreChange) {
        best = new Bound(proposed, direction + " policy " + p.describe() + " (from " + start + ")");
      }
    }
    return best;
  }

  private static int best(Bound b) {
    return b == null ? 0 : b.replicas();
  }

  /** Instances added (up) or removed (not up) by the changes within the last period. */
  private int changedWithin(Instant now, Duration period, boolean up) {
    Instant from = now.minus(period);
    int sum = 0;
    for (Change c : changes) {
      if (c.at().isAfter(from) && (c.delta() > 0) == up) {
        sum += Math.abs(c.delta());
      }
    }
    return sum;
  }

  private void forget(Instant now, Autoscale a) {
    Duration keep = max(a.scaleUp().stabilization(), a.scaleDown().stabilization());
    while (recommendations.size() > 1
        && !recommendations.peekFirst().at().isAfter(now.minus(keep))) {
      recommendations.removeFirst();
    }
    Duration period = max(a.scaleUp().longestPeriod(), a.scaleDown().longestPeriod());
    while (!changes.isEmpty() && !changes.peekFirst().at().isAfter(now.minus(period))) {
      changes.removeFirst();
    }
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static String seconds(Duration d) {
    return d.toSeconds() + "s";
  }
}
