package dev.pilothouse.core.rollout;

import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Advances a blue-green rollout once the new set is ready and smoke-tested: all traffic moves in
 * one swap, the old set stays warm, and the new set is judged for the rollback window.
 */
final class BlueGreenAdvance implements RolloutController.Advance<Strategy.BlueGreen> {
  private final RolloutController c;
  private final RolloutController.Options o;

  BlueGreenAdvance(RolloutController c, RolloutController.Options o) {
    this.c = c;
    this.o = o;
  }

  @Override
  public void advance(Rollout r, Strategy.BlueGreen plan, Instant now) {
    if (c.gate(
            r,
            plan,
            Strategy.Gate.Type.CONFIRM_TRAFFIC_INCREASE,
            "confirm-traffic-increase#switch",
            now)
        != RolloutController.Gated.PASSED) {
      return;
    }
    Ports.Sample base = c.stableBaseline(r);
    o.traffic().split(r.service(), c.split(r, plan, 100));
    Duration window = plan.rollbackWindow();
    Rollout next =
        c.save(
            r.validating(
                100,
                now,
                "switched; the old version stays warm for " + window.toSeconds() + "s",
                base));
    c.emit(
        "RolloutStep",
        next,
        "all traffic switched to " + c.versionOf(r.after(), r.service()),
        Map.of("weight", "100"));
  }
}
