package dev.pilothouse.chaos;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import dev.pilothouse.core.chaos.ChaosExperiment;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.ChaosSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What chaos does by itself: game days (experiment files on a cron schedule) and the monkey (random
 * kills of opted-in services, a Poisson process), both on a leash — allowed hours, no rollout under
 * way, enough error budget left, the switch on.
 */
final class Automation {
  private static final Logger log = LoggerFactory.getLogger(Automation.class);
  private static final CronParser CRON =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  private final Chaos chaos;
  private final Chaos.Options o;
  private final Map<String, Instant> lastKill = new ConcurrentHashMap<>();
  private Instant last;

  Automation(Chaos chaos, Chaos.Options o) {
    this.chaos = chaos;
    this.o = o;
  }

  /** One look: game days due since the last one, and the monkey's dice for the time between. */
  void tick(ChaosSpec cs, Instant now) {
    Instant since = last == null ? now : last;
    last = now;
    if (!cs.enabled() || o.repository().chaosHalt().isPresent() || !since.isBefore(now)) {
      return;
    }
    for (ChaosSpec.GameDay g : cs.gameDays()) {
      Optional<ZonedDateTime> next = next(g.schedule(), cs.allowedHours().timezone(), since);
      if (next.isPresent() && !next.get().toInstant().isAfter(now)) {
        gameDay(g, cs, now);
      }
    }
    double dt = Duration.between(since, now).toMillis() / 1000.0;
    for (ChaosSpec.Monkey m : cs.monkey()) {
      double p = 1 - Math.exp(-dt / m.meanTimeBetweenKills().toSeconds());
      if (ThreadLocalRandom.current().nextDouble() < p) {
        monkey(m, cs, now);
      }
    }
  }

  /** The next time a schedule names after a moment, in the allowed hours' zone. */
  static Optional<ZonedDateTime> next(String schedule, String zone, Instant after) {
    return ExecutionTime.forCron(CRON.parse(schedule)).nextExecution(after.atZone(ZoneId.of(zone)));
  }

  /** Why nothing automatic may hit the service now; empty when it may. */
  Optional<String> leash(String service, ChaosSpec cs, Instant now) {
    if (!cs.allowedHours().allows(now)) {
      return Optional.of("outside the allowed hours");
    }
    if (o.rolloutRunning().test(service)) {
      return Optional.of("a rollout of " + service + " is under way");
    }
    try {
      double left =
          o.metrics()
              .instant("min(slo:period_error_budget_remaining:ratio{service=\"" + service + "\"})");
      if (!Double.isNaN(left) && left < cs.minErrorBudget()) {
        return Optional.of(
            String.format(
                java.util.Locale.ROOT,
                "an SLO of %s has %.0f %% of its error budget left (under %.0f %%)",
                service,
                100 * left,
                100 * cs.minErrorBudget()));
      }
    } catch (RuntimeException e) {
      log.debug("chaos: error budget of {} not known: {}", service, e.toString());
    }
    return Optional.empty();
  }

  private void gameDay(ChaosSpec.GameDay g, ChaosSpec cs, Instant now) {
    String file = g.experiment();
    try {
      String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
      ChaosExperiment e = o.reader().read(file, text);
      Optional<String> no = leash(e.target().service(), cs, now);
      if (no.isPresent()) {
        skipped(e.target().service(), "game day " + e.name() + " skipped: " + no.get());
        return;
      }
      chaos.start(e, file, text, false);
    } catch (IOException x) {
      skipped("", "game day " + file + " skipped: cannot read the file (" + x.getMessage() + ")");
    } catch (ChaosException x) {
      skipped("", "game day " + file + " skipped: " + x.getMessage());
    }
  }

  private void monkey(ChaosSpec.Monkey m, ChaosSpec cs, Instant now) {
    Optional<String> no = leash(m.service(), cs, now);
    if (no.isPresent()) {
      skipped(m.service(), "the monkey left " + m.service() + " alone: " + no.get());
      return;
    }
    ServiceStatus st =
        o.status().get().stream()
            .filter(s -> s.name().equals(m.service()))
            .findFirst()
            .orElse(null);
    if (st == null) {
      return;
    }
    List<InstanceStatus> ready = st.instances().stream().filter(InstanceStatus::serving).toList();
    int down = Math.max(0, st.desiredReplicas() - ready.size());
    if (down >= m.maxConcurrent() || ready.size() < 2) {
      skipped(
          m.service(),
          "the monkey left "
              + m.service()
              + " alone: "
              + (ready.size() < 2
                  ? "it has " + ready.size() + " ready instance(s)"
                  : down
                      + " of its instances are down already (maxConcurrent "
                      + m.maxConcurrent()
                      + ")"));
      return;
    }
    InstanceStatus victim = ready.get(ThreadLocalRandom.current().nextInt(ready.size()));
    long ticks = Procs.startTicks(victim.pid()).orElse(-1);
    if (Procs.signal(victim.pid(), ticks, m.graceful() ? "TERM" : "KILL")) {
      lastKill.put(m.service(), now);
      o.events()
          .emit(
              new NewEvent(
                  now,
                  "ChaosMonkeyKill",
                  m.service(),
                  victim.id(),
                  "the monkey sent "
                      + (m.graceful() ? "SIGTERM" : "SIGKILL")
                      + " to "
                      + victim.id()
                      + " (mean time between kills "
                      + m.meanTimeBetweenKills().toMinutes()
                      + " min)",
                  Map.of("signal", m.graceful() ? "SIGTERM" : "SIGKILL")));
    }
  }

  private void skipped(String service, String why) {
    o.events().emit(new NewEvent(o.clock().instant(), "ChaosSkipped", service, "", why, Map.of()));
  }

  /** When the monkey last killed an instance of the service. */
  Optional<Instant> lastKill(String service) {
    return Optional.ofNullable(lastKill.get(service));
  }
}
