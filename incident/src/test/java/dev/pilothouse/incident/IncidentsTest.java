package dev.pilothouse.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.incident.Incident;
import dev.pilothouse.core.incident.IncidentRepository;
import dev.pilothouse.core.incident.OnCall;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Incidents in virtual time over an in-memory event log and repository. */
class IncidentsTest {
  Instant now = Instant.parse("2026-11-30T10:00:00Z");

  /** The event log, as the store keeps it. */
  final class Log implements EventLog {
    final List<Event> events = new ArrayList<>();

    @Override
    public void emit(NewEvent e) {
      events.add(
          new Event(
              events.size() + 1,
              e.at(),
              e.type(),
              e.service(),
              e.instance(),
              e.message(),
              e.fields(),
              "",
              ""));
    }

    @Override
    public List<Event> after(long after, int limit) {
      return events.stream().filter(e -> e.seq() > after).limit(limit).toList();
    }

    @Override
    public List<Event> latest(int limit) {
      return events;
    }

    @Override
    public AutoCloseable subscribe(Consumer<Event> listener) {
      return () -> {};
    }

    @Override
    public Verification verify() {
      return new Verification(events.size(), null);
    }

    List<String> types() {
      return events.stream().map(Event::type).toList();
    }
  }

  /** The repository, as the store keeps it (saves are what survives a kill -9). */
  static final class Repo implements IncidentRepository {
    final Map<Long, Incident> saved = new LinkedHashMap<>();
    long cursor;
    long ids;

    @Override
    public Snapshot incidentSnapshot() {
      return new Snapshot(saved.values().stream().filter(Incident::open).toList(), cursor);
    }

    @Override
    public List<Incident> recent(int limit) {
      return List.copyOf(saved.values()).reversed().stream().limit(limit).toList();
    }

    @Override
    public Optional<Incident> incident(long id) {
      return Optional.ofNullable(saved.get(id));
    }

    @Override
    public void save(List<Incident> changed, long eventCursor) {
      changed.forEach(i -> saved.put(i.id(), i));
      cursor = eventCursor;
    }

    @Override
    public long nextId() {
      return ++ids;
    }
  }

  final Log log = new Log();
  final Repo repo = new Repo();
  final List<String> pages = new ArrayList<>();
  boolean pagerDown;

  final OnCall oncall =
      new OnCall(
          Map.of(
              "alice", new OnCall.User("alice@example.com", "", ""),
              "bob", new OnCall.User("", "http://127.0.0.1:1/bob", ""),
              "carol", new OnCall.User("carol@example.com", "", "")),
          List.of(
              new OnCall.Schedule(
                  "primary",
                  List.of("alice", "bob"),
                  Duration.ofDays(7),
                  Instant.parse("2026-11-23T09:00:00Z"),
                  List.of(
                      new OnCall.Override(
                          "carol",
                          Instant.parse("2026-12-24T00:00:00Z"),
                          Instant.parse("2026-12-27T00:00:00Z"))))),
          List.of(
              new OnCall.Escalation(
                  "shop",
                  Map.of("service", "shop"),
                  List.of(
                      new OnCall.Level(Duration.ZERO, List.of("schedule:primary")),
                      new OnCall.Level(Duration.ofMinutes(15), List.of("user:carol"))))));

  Incidents incidents() {
    return new Incidents(
        () -> oncall,
        log,
        log,
        repo,
        (user, contact, incident, level) -> {
          if (pagerDown) {
            throw new java.io.IOException("connection refused");
          }
          pages.add(user + "@" + level + "#" + incident.id());
        },
        () -> now);
  }

  void alert(String type, String name, String service, String labels, String summary) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("alertname", name);
    f.put("labels", labels);
    if (!summary.isEmpty()) {
      f.put("summary", summary);
    }
    log.emit(new NewEvent(now, type, service, "", type + " " + name, f));
  }

  void fire(String name, String service, String labels) {
    alert("AlertFiring", name, service, labels, name + " on " + service);
  }

  void advance(Incidents inc, Duration d) {
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      now = now.plusSeconds(1);
      inc.tick();
    }
  }

  @Test
  void alertsOfOneService_formOneIncident_whichPagesTheOnCallPerson_thenEscalates() {
    Incidents inc = incidents();
    fire(
        "HighErrorRate",
        "shop",
        "{alertname=\"HighErrorRate\", service=\"shop\", severity=\"ticket\"}");
    fire("HighLatency", "shop", "{alertname=\"HighLatency\", service=\"shop\", severity=\"page\"}");
    fire("DiskFull", "", "{alertname=\"DiskFull\", severity=\"warning\"}");
    inc.tick();
    List<Incident> open = inc.openIncidents();
    assertThat(open).hasSize(2);
    Incident shop = open.get(0);
    assertThat(shop.service()).isEqualTo("shop");
    assertThat(shop.alerts())
        .extracting(Incident.Alert::name)
        .containsExactly("HighErrorRate", "HighLatency");
    assertThat(shop.severity()).as("the worse of ticket and page").isEqualTo("page");
    assertThat(shop.escalation()).isEqualTo("shop");
    assertThat(open.get(1).key()).isEqualTo("alert:DiskFull");
    assertThat(open.get(1).escalation()).as("no policy matches").isEmpty();
    // Bob has the second week of the rotation that started on 23 November.
    assertThat(pages).containsExactly("bob@1#1");
    assertThat(log.types()).containsSubsequence("IncidentOpened", "IncidentEscalated");
    // Not acknowledged within 15 minutes: the next level.
    advance(inc, Duration.ofMinutes(14));
    assertThat(pages).hasSize(1);
    advance(inc, Duration.ofMinutes(1));
    assertThat(pages).containsExactly("bob@1#1", "carol@2#1");
    assertThat(inc.openIncidents().get(0).timeline())
        .extracting(Incident.Entry::text)
        .contains("paged bob (on call for primary), level 1", "paged carol, level 2");
  }

  @Test
  void anAcknowledgement_stopsEscalation_andResolvingTheAlerts_resolvesTheIncident() {
    Incidents inc = incidents();
    fire("HighErrorRate", "shop", "{alertname=\"HighErrorRate\", service=\"shop\"}");
    inc.tick();
    Incident a = inc.acknowledge(1, "bob");
    assertThat(a.state()).isEqualTo(Incident.State.ACKNOWLEDGED);
    assertThat(inc.acknowledge(1, "bob").acknowledgedAt())
        .as("idempotent")
        .isEqualTo(a.acknowledgedAt());
    advance(inc, Duration.ofMinutes(20));
    assertThat(pages).containsExactly("bob@1#1");
    // A deploy of the service joins the timeline.
    log.emit(
        new NewEvent(now, "RolloutStarted", "shop", "", "rollout of shop v2 started", Map.of()));
    log.emit(new NewEvent(now, "InstanceStarted", "shop", "i1", "instance started", Map.of()));
    alert(
        "AlertResolved",
        "HighErrorRate",
        "shop",
        "{alertname=\"HighErrorRate\", service=\"shop\"}",
        "");
    inc.tick();
    assertThat(inc.openIncidents()).isEmpty();
    Incident done = repo.saved.get(1L);
    assertThat(done.state()).isEqualTo(Incident.State.RESOLVED);
    assertThat(done.resolvedBy()).isEmpty();
    assertThat(done.timeline())
        .extracting(Incident.Entry::text)
        .contains(
            "acknowledged by bob",
            "RolloutStarted: rollout of shop v2 started",
            "all its alerts resolved")
        .noneMatch(t -> t.contains("InstanceStarted"));
    assertThat(log.types()).contains("IncidentAcknowledged", "IncidentResolved");
    assertThatThrownBy(() -> inc.resolve(1, "bob")).hasMessageContaining("already resolved");
    assertThatThrownBy(() -> inc.acknowledge(9, "bob")).hasMessageContaining("no incident 9");
    // The alert fires again: a new incident.
    fire("HighErrorRate", "shop", "{alertname=\"HighErrorRate\", service=\"shop\"}");
    inc.tick();
    assertThat(inc.openIncidents()).extracting(Incident::id).containsExactly(2L);
  }

  @Test
  void aRestart_resumesFromTheSavedPosition_withoutPagingAgain() {
    Incidents first = incidents();
    fire("HighErrorRate", "shop", "{alertname=\"HighErrorRate\", service=\"shop\"}");
    first.tick();
    assertThat(pages).hasSize(1);
    // kill -9 and a new daemon: the same store.
    Incidents second = incidents();
    second.tick();
    advance(second, Duration.ofMinutes(10));
    assertThat(pages).as("level 1 was saved as paged").hasSize(1);
    assertThat(second.openIncidents())
        .singleElement()
        .satisfies(i -> assertThat(i.level()).isEqualTo(1));
    assertThat(repo.saved).hasSize(1);
    advance(second, Duration.ofMinutes(5));
    assertThat(pages).containsExactly("bob@1#1", "carol@2#1");
  }

  @Test
  void aFailedPage_isInTheTimeline_andEscalationGoesOn() {
    pagerDown = true;
    Incidents inc = incidents();
    fire("HighErrorRate", "shop", "{alertname=\"HighErrorRate\", service=\"shop\"}");
    inc.tick();
    assertThat(inc.openIncidents().get(0).timeline())
        .extracting(Incident.Entry::text)
        .anyMatch(
            t ->
                t.startsWith(
                    "paging bob (on call for primary) failed, level 1: connection refused"));
  }

  @Test
  void schedules_rotate_andOverridesWin() {
    OnCall.Schedule s = oncall.schedules().get(0);
    assertThat(s.onCallAt(Instant.parse("2026-11-23T09:00:00Z"))).isEqualTo("alice");
    assertThat(s.onCallAt(Instant.parse("2026-11-30T08:59:59Z"))).isEqualTo("alice");
    assertThat(s.onCallAt(Instant.parse("2026-11-30T09:00:00Z"))).isEqualTo("bob");
    assertThat(s.onCallAt(Instant.parse("2026-11-20T09:00:00Z")))
        .as("before the start")
        .isEqualTo("bob");
    assertThat(s.onCallAt(Instant.parse("2026-12-25T12:00:00Z"))).isEqualTo("carol");
    assertThat(s.handoverAfter(Instant.parse("2026-12-22T12:00:00Z")))
        .isEqualTo(Instant.parse("2026-12-24T00:00:00Z"));
    assertThat(incidents().onCallNow(now))
        .singleElement()
        .satisfies(m -> assertThat(m).containsEntry("user", "bob").containsEntry("next", "alice"));
  }

  @Test
  void thePostmortem_hasTheTimeline_impact_andTheDeployBefore() {
    Incidents inc = incidents();
    log.emit(
        new NewEvent(
            now.minusSeconds(600),
            "RolloutStarted",
            "shop",
            "",
            "rollout of shop to v2 started",
            Map.of("version", "v2")));
    log.emit(
        new NewEvent(
            now.minusSeconds(300), "RolloutPromoted", "shop", "", "shop v2 promoted", Map.of()));
    fire("HighErrorRate", "shop", "{alertname=\"HighErrorRate\", service=\"shop\"}");
    inc.tick();
    advance(inc, Duration.ofMinutes(3));
    inc.acknowledge(1, "bob");
    advance(inc, Duration.ofMinutes(30));
    inc.resolve(1, "bob");
    String md =
        Postmortem.markdown(
            repo.saved.get(1L),
            log.events,
            new Postmortem.Impact(
                120_000.0,
                3_000.0,
                List.of(new Postmortem.Budget("availability", 0.999, "30d", 0.058))),
            now);
    assertThat(md)
        .startsWith("# Postmortem: HighErrorRate on shop\n")
        .contains("| Duration | 33m |")
        .contains("| Acknowledged | 2026-11-30T10:03:00Z by bob (3m after it opened) |")
        .contains("120,000 requests during the incident, 3,000 of them failed (2.50 %)")
        .contains("SLO availability (99.9 % over 30d): 5.8 % of the error budget spent")
        .contains(
            "rollout of shop to v2 started (version v2) — promoted 2026-11-30T09:55:00Z, 10m before")
        .contains("| 2026-11-30T09:50:00Z | RolloutStarted: rollout of shop to v2 started |")
        .contains("| 2026-11-30T10:00:00Z | paged bob (on call for primary), level 1 |")
        .contains("## Action items");
  }

  @Test
  void aLongIncident_keepsItsTimelineBounded_droppingContextFirst() {
    Incidents inc = incidents();
    fire("HighErrorRate", "shop", "{alertname=\"HighErrorRate\", service=\"shop\"}");
    inc.tick();
    for (int k = 0; k < 700; k++) {
      log.emit(new NewEvent(now, "RolloutStep", "shop", "", "step " + k, Map.of()));
    }
    inc.tick();
    Incident i = inc.openIncidents().get(0);
    assertThat(i.timeline()).hasSize(Incidents.MAX_TIMELINE);
    assertThat(i.timeline().get(0).text()).as("the alert stays").contains("fired");
    assertThat(i.timeline().get(i.timeline().size() - 1).text()).contains("step 699");
  }
}
