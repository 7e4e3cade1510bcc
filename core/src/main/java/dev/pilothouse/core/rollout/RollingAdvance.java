package dev.pilothouse.core.rollout;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Strategy;
import java.time.Instant;
import java.util.List;

/**
 * Advances a rolling update: the instance controller replaces instances by the plan's surge and
 * unavailability; the rollout is done once every instance runs the new template and is ready.
 */
final class RollingAdvance implements RolloutController.Advance<Strategy.Rolling> {
  private final RolloutController c;
  private final RolloutController.Options o;

  RollingAdvance(RolloutController c, RolloutController.Options o) {
    this.c = c;
    this.o = o;
  }

  @Override
  public void advance(Rollout r, Strategy.Rolling plan, Instant now) {
    ServiceSpec target = r.after().service(r.service()).orElseThrow();
    if (o.fleet().crashLooping(r.service())) {
      c.rollBack(r, now, "the new version keeps crashing", List.of());
      return;
    }
    List<InstanceStatus> instances = o.fleet().instances(r.service());
    long replaced =
        instances.stream()
            .filter(i -> i.template().startsWith(target.template()) && i.ready())
            .count();
    if (replaced == target.replicas() && instances.size() == target.replicas()) {
      c.promoteNow(
          r,
          now,
          "all " + target.replicas() + " instances run " + target.version() + " and are ready");
    } else if (now.isAfter(r.startedAt().plus(plan.progressDeadline()))) {
      c.rollBack(
          r,
          now,
          "only "
              + replaced
              + " of "
              + target.replicas()
              + " instances of the new version were ready within the progress deadline of "
              + plan.progressDeadline().toSeconds()
              + "s",
          List.of());
    }
  }
}
