package dev.pilothouse.scaling;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.Remediation;
import dev.pilothouse.core.spec.Remediation.Action;
import dev.pilothouse.core.spec.Remediation.Condition;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Remediation runbooks: once per {@link #tick} (every second) each service's runbooks are checked;
 * where a condition holds, the next action is taken within the guard rails (cooldown, actions per
 * hour, blast radius) and verified after a while; when no action helped, the runbook escalates to
 * people ({@code RemediationEscalated}, which notifies and opens an incident). Every action and its
 * outcome is an event with its reason. It acts through the {@link Remedies} port; what it remembers
 * (runs in progress, actions of the last hour) lives in memory, so a restarted daemon starts each
 * runbook afresh.
 */
public final class Remediator {
  /** What the person paged for a failed remediation reads first. */
  static final String RUNBOOK = "docs/runbooks/remediation-failed.md";

  /**
   * What the remediator reads and writes.
   *
   * @param firing the alerts as the rules last left them
   */
  public record Options(
      Supplier<Spec> desired,
      Supplier<List<ServiceStatus>> observed,
      Supplier<List<AlertState>> firing,
      Remedies remedies,
      EventSink events,
      InstantSource clock) {
    public Options {
      requireNonNull(desired, "desired");
      requireNonNull(observed, "observed");
      requireNonNull(firing, "firing");
      requireNonNull(remedies, "remedies");
      requireNonNull(events, "events");
      requireNonNull(clock, "clock");
    }
  }

  /** One runbook working on one target (an instance, or "" for the service). */
  private static final class Run {
    final String target;
    final Instant since;
    int step;
    String lastAction = "";
    Instant verifyAt;
    boolean escalated;
    boolean heldReported;
    final List<String> tried = new ArrayList<>();

    Run(String target, Instant since) {
      this.target = target;
      this.since = since;
    }
  }

  private final Options o;
  private final Map<String, Map<String, Run>> runs = new HashMap<>(); // service/rule -> target
  private final Map<String, Deque<Instant>> acted = new HashMap<>(); // service/rule -> times
  private final Map<String, Instant> lastReady = new HashMap<>();

  public Remediator(Options options) {
    this.o = requireNonNull(options, "options");
  }

  /** Checks every runbook once and takes the next step where one is due. */
  public synchronized void tick() {
    Instant now = o.clock().instant();
    Map<String, ServiceStatus> status = new HashMap<>();
    Set<String> live = new HashSet<>();
    for (ServiceStatus st : o.observed().get()) {
      status.put(st.name(), st);
      for (InstanceStatus i : st.instances()) {
        live.add(i.id());
        if (i.serving()) {
          lastReady.put(i.id(), now);
        }
      }
    }
    lastReady.keySet().retainAll(live);
    Set<String> keys = new HashSet<>();
    for (ServiceSpec s : o.desired().get().services()) {
      ServiceStatus st = status.get(s.name());
      if (st == null) {
        continue;
      }
      for (Remediation r : s.remediation()) {
        String key = s.name() + "/" + r.name();
        keys.add(key);
        step(now, s, st, r, key);
      }
    }
    runs.keySet().retainAll(keys);
    acted.keySet().retainAll(keys);
  }

  private void step(Instant now, ServiceSpec s, ServiceStatus st, Remediation r, String key) {
    Set<String> holding = holding(now, s, st, r);
    Map<String, Run> mine = runs.computeIfAbsent(key, k -> new HashMap<>());
    for (Run run : List.copyOf(mine.values())) {
      if (holding.contains(run.target)) {
        continue;
      }
      boolean recovered = st.readyReplicas() >= st.desiredReplicas();
      if (run.lastAction.isEmpty()) {
        mine.remove(run.target); // cleared on its own before any action
      } else if (recovered || run.escalated) {
        Map<String, String> f = new HashMap<>(fields(r, run, "cleared"));
        if (run.escalated && r.escalate()) {
          f.putAll(alert(s, r, run, ""));
        }
        emit(
            now,
            run.escalated ? "RemediationRecovered" : "RemediationSucceeded",
            s.name(),
            run.target,
            r.name()
                + ": "
                + condition(r, run.target)
                + " cleared after "
                + String.join(", ", run.tried),
            f);
        mine.remove(run.target);
      } else if (!now.isBefore(run.verifyAt)) {
        escalate(
            now,
            s,
            r,
            run,
            "the service did not recover: "
                + st.readyReplicas()
                + " of "
                + st.desiredReplicas()
                + " ready "
                + seconds(r.verify())
                + " after "
                + run.lastAction);
      }
    }
    for (String target : holding) {
      Run run = mine.computeIfAbsent(target, t -> new Run(t, now));
      if (run.escalated) {
        continue;
      }
      if (run.verifyAt != null) {
        if (now.isBefore(run.verifyAt)) {
          continue;
        }
        emit(
            now,
            "RemediationActionFailed",
            s.name(),
            run.target,
            r.name()
                + ": "
                + run.lastAction
                + " did not clear "
                + condition(r, run.target)
                + " within "
                + seconds(r.verify()),
            fields(r, run, "did not help"));
        run.verifyAt = null;
      }
      if (run.step >= r.actions().size()) {
        escalate(now, s, r, run, "no action cleared " + condition(r, run.target));
        continue;
      }
      Deque<Instant> times = acted.computeIfAbsent(key, k -> new ArrayDeque<>());
      while (!times.isEmpty() && !times.peekFirst().isAfter(now.minus(Duration.ofHours(1)))) {
        times.removeFirst();
      }
      if (!times.isEmpty() && now.isBefore(times.peekLast().plus(r.cooldown()))) {
        continue; // the cooldown holds the next action back
      }
      if (times.size() >= r.maxPerHour()) {
        escalate(now, s, r, run, "its limit of " + r.maxPerHour() + " actions per hour is reached");
        continue;
      }
      Action a = r.actions().get(run.step);
      if (a.perInstance() && !withinBlastRadius(s, st, r, key)) {
        if (!run.heldReported) {
          run.heldReported = true;
          emit(
              now,
              "RemediationHeld",
              s.name(),
              run.target,
              r.name()
                  + ": "
                  + a.name()
                  + " of "
                  + run.target
                  + " held back: more than "
                  + Math.round(r.blastRadius() * 100)
                  + "% of "
                  + s.name()
                  + " would be out of service",
              fields(r, run, "held"));
        }
        continue;
      }
      run.step++;
      run.lastAction = a.name();
      run.tried.add(a.name());
      times.addLast(now);
      act(now, s, r, run, a);
    }
  }

  private void act(Instant now, ServiceSpec s, Remediation r, Run run, Action a) {
    String reason = "remediation " + r.name() + ": " + condition(r, run.target);
    try {
      switch (a) {
        case Action.Replace x -> o.remedies().replace(run.target, reason);
        case Action.Quarantine x -> o.remedies().quarantine(run.target, reason, r.quarantineFor());
        case Action.Restart x -> {
          if (run.target.isEmpty()) {
            o.remedies().restart(s.name());
          } else {
            o.remedies().replace(run.target, reason); // a process restarts as a fresh one
          }
        }
        case Action.Rollback x -> o.remedies().rollback(s.name());
        case Action.ScaleOut x -> o.remedies().scaleOut(s.name(), x.by());
        case Action.Command c -> {
          int exit =
              o.remedies()
                  .run(c.argv(), Map.of("SERVICE", s.name(), "INSTANCE", run.target), c.timeout());
          if (exit != 0) {
            throw new IllegalStateException(
                exit < 0 ? "timed out after " + seconds(c.timeout()) : "exited with " + exit);
          }
        }
      }
    } catch (IllegalStateException | IllegalArgumentException e) {
      run.verifyAt = null;
      emit(
          now,
          "RemediationActionFailed",
          s.name(),
          run.target,
          r.name() + ": " + a.name() + " could not be taken: " + e.getMessage(),
          fields(r, run, "failed"));
      return;
    }
    run.verifyAt = now.plus(r.verify());
    emit(
        now,
        "RemediationStarted",
        s.name(),
        run.target,
        r.name()
            + ": "
            + a.name()
            + (run.target.isEmpty() ? "" : " " + run.target)
            + " because "
            + condition(r, run.target),
        fields(r, run, "acting"));
  }

  private void escalate(Instant now, ServiceSpec s, Remediation r, Run run, String why) {
    run.escalated = true;
    run.verifyAt = null;
    String message =
        r.name()
            + ": "
            + why
            + (run.tried.isEmpty() ? "" : " (tried " + String.join(", ", run.tried) + ")");
    emit(now, "RemediationFailed", s.name(), run.target, message, fields(r, run, "failed"));
    if (r.escalate()) {
      Map<String, String> f = new HashMap<>(fields(r, run, "escalated"));
      f.putAll(alert(s, r, run, s.name() + ": remediation " + r.name() + " did not help: " + why));
      emit(now, "RemediationEscalated", s.name(), run.target, message, f);
    }
  }

  /**
   * The alert an escalation stands for (the incident module opens an incident for it, and its
   * recovery resolves it): the same name and labels on both events.
   */
  private static Map<String, String> alert(ServiceSpec s, Remediation r, Run run, String summary) {
    String labels =
        "{alertname=\"RemediationFailed\", "
            + (run.target.isEmpty() ? "" : "instance_id=\"" + run.target + "\", ")
            + "rule=\""
            + r.name()
            + "\", service=\""
            + s.name()
            + "\", severity=\"page\"}";
    Map<String, String> f = new HashMap<>();
    f.put("alertname", "RemediationFailed");
    f.put("labels", labels);
    f.put("runbook_url", RUNBOOK);
    if (!summary.isEmpty()) {
      f.put("summary", summary);
    }
    return f;
  }

  /** Whether one more instance may be taken out of service by this service's runbooks. */
  private boolean withinBlastRadius(ServiceSpec s, ServiceStatus st, Remediation r, String key) {
    int out = 0;
    for (Map.Entry<String, Map<String, Run>> e : runs.entrySet()) {
      if (!e.getKey().startsWith(s.name() + "/")) {
        continue;
      }
      for (Run run : e.getValue().values()) {
        if (run.verifyAt != null && !run.target.isEmpty()) {
          out++;
        }
      }
    }
    for (InstanceStatus i : st.instances()) {
      if (i.state().equals("quarantined")) {
        out++;
      }
    }
    int allowed =
        Math.max(1, (int) Math.floor(r.blastRadius() * Math.max(1, st.desiredReplicas())));
    return out + 1 <= allowed;
  }

  /** The targets the condition holds for now: instance ids, or "" for the service. */
  private Set<String> holding(Instant now, ServiceSpec s, ServiceStatus st, Remediation r) {
    Set<String> out = new LinkedHashSet<>();
    switch (r.when()) {
      case Condition.Unready u -> {
        for (InstanceStatus i : st.instances()) {
          Instant last = lastReady.get(i.id());
          if (i.state().equals("running")
              && !i.ready()
              && last != null
              && !now.isBefore(last.plus(u.after()))) {
            out.add(i.id());
          }
        }
      }
      case Condition.CrashLoop c -> {
        if (st.state().equals("crash-loop")) {
          out.add("");
        }
      }
      case Condition.Alert a -> {
        for (AlertState al : o.firing().get()) {
          if (al.state() == AlertState.State.FIRING
              && a.alertname().equals(al.labels().get("alertname"))
              && s.name().equals(al.labels().get("service"))) {
            out.add("");
            break;
          }
        }
      }
    }
    return out;
  }

  private static String condition(Remediation r, String target) {
    return switch (r.when()) {
      case Condition.Unready u -> target + " not ready for " + seconds(u.after());
      case Condition.CrashLoop c -> "crash loop";
      case Condition.Alert a -> "alert " + a.alertname() + " firing";
    };
  }

  private static Map<String, String> fields(Remediation r, Run run, String outcome) {
    Map<String, String> f = new HashMap<>();
    f.put("rule", r.name());
    f.put("condition", r.when().name());
    f.put("action", run.lastAction);
    f.put("outcome", outcome);
    f.put("tried", String.join(",", run.tried));
    return f;
  }

  private void emit(
      Instant now,
      String type,
      String service,
      String instance,
      String message,
      Map<String, String> fields) {
    o.events().emit(new NewEvent(now, type, service, instance, message, fields));
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
