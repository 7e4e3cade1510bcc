package dev.pilothouse.incident;

import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.incident.Incident;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A blameless postmortem draft in Markdown: what happened when, what users felt, the change that
 * came before, and the sections a team fills in. Facts come from the incident, the event log and
 * the load balancer's metrics; judgements are left to people.
 */
public final class Postmortem {
  private Postmortem() {}

  /**
   * What users felt during the incident, from the load balancer.
   *
   * @param requests requests to the service during the incident; null without metrics
   * @param failed of them, answered 5xx or not at all
   * @param budgets per SLO of the service: the share of its window's error budget spent
   */
  public record Impact(Double requests, Double failed, List<Budget> budgets) {
    public Impact {
      budgets = budgets == null ? List.of() : List.copyOf(budgets);
    }

    public static Impact unknown() {
      return new Impact(null, null, List.of());
    }
  }

  /** The error budget of one SLO spent during the incident (0.25 = a quarter). */
  public record Budget(String slo, double objective, String window, Double spent) {}

  /**
   * The draft.
   *
   * @param related events of the service from a day before the incident to its end, in order
   */
  public static String markdown(Incident i, List<Event> related, Impact impact, Instant now) {
    StringBuilder b = new StringBuilder();
    Instant end = i.resolvedAt() == null ? now : i.resolvedAt();
    b.append("# Postmortem: ").append(i.title()).append("\n\n");
    b.append("*Draft written by Pilothouse from incident ")
        .append(i.id())
        .append(". Blameless: describe what the system and the people in it did and why it made")
        .append(" sense at the time, not who is at fault.*\n\n");
    b.append("## Summary\n\n");
    b.append("| | |\n|---|---|\n");
    row(b, "Incident", Long.toString(i.id()));
    row(b, "Service", i.service().isEmpty() ? "-" : i.service());
    row(b, "Severity", i.severity().isEmpty() ? "-" : i.severity());
    row(b, "Status", i.state().wire());
    row(b, "Opened", i.openedAt().toString());
    row(
        b,
        "Acknowledged",
        i.acknowledgedAt() == null
            ? "-"
            : i.acknowledgedAt()
                + " by "
                + i.acknowledgedBy()
                + " ("
                + human(Duration.between(i.openedAt(), i.acknowledgedAt()))
                + " after it opened)");
    row(
        b,
        "Resolved",
        i.resolvedAt() == null
            ? "not yet"
            : i.resolvedAt()
                + (i.resolvedBy() == null || i.resolvedBy().isEmpty()
                    ? " (its alerts resolved)"
                    : " by " + i.resolvedBy()));
    row(
        b,
        "Duration",
        human(Duration.between(i.openedAt(), end)) + (i.resolvedAt() == null ? " so far" : ""));
    b.append('\n');

    b.append("## Impact\n\n");
    if (impact.requests() == null) {
      b.append("No load balancer metrics cover the incident (is the service routed?).\n\n");
    } else {
      double req = impact.requests();
      double failed = impact.failed() == null ? 0 : impact.failed();
      b.append(
              String.format(
                  Locale.ROOT,
                  "- %,.0f requests during the incident, %,.0f of them failed",
                  req,
                  failed))
          .append(req > 0 ? String.format(Locale.ROOT, " (%.2f %%)", 100 * failed / req) : "")
          .append(".\n");
      for (Budget bu : impact.budgets()) {
        b.append("- SLO ")
            .append(bu.slo())
            .append(" (")
            .append(trim(bu.objective() * 100))
            .append(" % over ")
            .append(bu.window())
            .append("): ")
            .append(
                bu.spent() == null
                    ? "no traffic in its window"
                    : String.format(
                        Locale.ROOT, "%.1f %% of the error budget spent", 100 * bu.spent()))
            .append(".\n");
      }
      b.append('\n');
    }

    b.append("## Alerts\n\n");
    for (Incident.Alert a : i.alerts()) {
      b.append("- **")
          .append(a.name())
          .append("** `")
          .append(a.labels())
          .append("`")
          .append(a.summary().isEmpty() ? "" : ": " + a.summary())
          .append(" — fired ")
          .append(a.firedAt())
          .append(a.resolvedAt() == null ? ", still firing" : ", resolved " + a.resolvedAt())
          .append(a.runbook().isEmpty() ? "" : " ([runbook](" + a.runbook() + "))")
          .append('\n');
    }
    b.append('\n');

    b.append("## The change before it\n\n");
    Event deploy = null;
    for (Event e : related) {
      if (e.type().equals("RolloutStarted") && !e.at().isAfter(i.openedAt())) {
        deploy = e;
      }
    }
    if (deploy == null) {
      b.append("No deploy of the service in the day before the incident.\n\n");
    } else {
      final Event started = deploy;
      String outcome =
          related.stream()
              .filter(e -> e.seq() > started.seq())
              .filter(
                  e -> e.type().equals("RolloutPromoted") || e.type().equals("RolloutRolledBack"))
              .findFirst()
              .map(
                  e -> (e.type().equals("RolloutPromoted") ? "promoted " : "rolled back ") + e.at())
              .orElse("not finished");
      b.append("- ")
          .append(started.at())
          .append(": ")
          .append(started.message())
          .append(
              started.fields().containsKey("version")
                  ? " (version " + started.fields().get("version") + ")"
                  : "")
          .append(" — ")
          .append(outcome)
          .append(", ")
          .append(human(Duration.between(started.at(), i.openedAt())))
          .append(" before the incident opened.\n\n");
    }

    b.append("## Timeline\n\n");
    b.append("| time (UTC) | what |\n|---|---|\n");
    List<String[]> lines = new ArrayList<>();
    for (Event e : related) {
      if (e.at().isBefore(i.openedAt())
          && (e.type().startsWith("Rollout") || e.type().equals("CrashLoop"))) {
        lines.add(new String[] {e.at().toString(), e.type() + ": " + e.message()});
      }
    }
    for (Incident.Entry e : i.timeline()) {
      lines.add(new String[] {e.at().toString(), e.text()});
    }
    lines.sort(Comparator.comparing(x -> Instant.parse(x[0])));
    for (String[] l : lines) {
      b.append("| ").append(l[0]).append(" | ").append(l[1].replace("|", "\\|")).append(" |\n");
    }
    b.append('\n');
    b.append(
        "## Root cause\n\n_What made this possible? Ask why until the answer is a condition of the system, not a person._\n\n");
    b.append("## What went well\n\n_\n\n");
    b.append("## What went badly\n\n_\n\n");
    b.append("## Where we got lucky\n\n_\n\n");
    b.append(
        "## Action items\n\n| action | kind (prevent, detect, mitigate) | owner | due |\n|---|---|---|---|\n| | | | |\n");
    return b.toString();
  }

  private static void row(StringBuilder b, String k, String v) {
    b.append("| ").append(k).append(" | ").append(v).append(" |\n");
  }

  /** 45s, 12m, 3h 20m, 2d 4h. */
  static String human(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 120) {
      return s + "s";
    }
    if (s < 7200) {
      return s / 60 + "m";
    }
    if (s < 172_800) {
      return s / 3600 + "h " + s % 3600 / 60 + "m";
    }
    return s / 86_400 + "d " + s % 86_400 / 3600 + "h";
  }

  private static String trim(double v) {
    return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3f", v))
        .stripTrailingZeros()
        .toPlainString();
  }
}
