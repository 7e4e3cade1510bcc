package dev.pilothouse.alerting.routing;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.routing.Fingerprints;
import dev.pilothouse.core.alerting.routing.InhibitRule;
import dev.pilothouse.core.alerting.routing.LabelMatcher;
import dev.pilothouse.core.alerting.routing.Notification;
import dev.pilothouse.core.alerting.routing.Receiver;
import dev.pilothouse.core.alerting.routing.RoutingConfig;
import dev.pilothouse.core.alerting.routing.RoutingRepository;
import dev.pilothouse.core.alerting.routing.Silence;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alertmanager's dispatcher over the alerts of the rules: routes each firing or resolved alert
 * through the tree into aggregation groups, flushes each group after group_wait and then every
 * group_interval, mutes what silences, inhibition and time intervals mute, and sends each
 * integration a notification only when its group changed or repeat_interval has passed since the
 * last one — decided by a notification log kept in the store, so that a restart sends nothing
 * twice.
 */
public final class Router {
  private static final Logger log = LoggerFactory.getLogger(Router.class);

  /** How long notification log entries and expired silences are kept (Alertmanager's 120 h). */
  public static final Duration RETENTION = Duration.ofHours(120);

  /** Limits on silences a user can create. */
  public static final int MAX_SILENCES = 10_000;

  public static final int MAX_MATCHERS = 64;

  /**
   * Settings that are not in the routing config.
   *
   * @param externalUrl where users reach Pilothouse (the notifications' externalURL)
   * @param deliveries runs deliveries (a network call each, retried by the sender)
   */
  public record Options(Supplier<String> externalUrl, Executor deliveries) {
    public Options {
      requireNonNull(externalUrl, "externalUrl");
      requireNonNull(deliveries, "deliveries");
    }
  }

  private final Supplier<Optional<RoutingConfig>> config;
  private final Supplier<List<AlertState>> source;
  private final Notification.Sender sender;
  private final RoutingRepository repo;
  private final InstantSource clock;
  private final Options options;

  private RoutingConfig loaded;
  private RouteNode tree;
  private TimeIntervals intervals;
  private List<CompiledInhibit> inhibits = List.of();
  private final Map<String, Group> groups = new LinkedHashMap<>();

  /** The alerts last seen, by fingerprint (to resolve those that disappear). */
  private Map<String, Group.Held> seen = new HashMap<>();

  private final Set<String> inFlight = new HashSet<>();
  private long versions;
  private final Map<String, Silence> silences = new LinkedHashMap<>();

  /** Each silence's matchers, compiled once (a replaced silence is a new key). */
  private final Map<Silence, Matchers> compiledSilences = new java.util.WeakHashMap<>();

  private record CompiledInhibit(InhibitRule rule, Matchers source, Matchers target) {}

  public Router(
      Supplier<Optional<RoutingConfig>> config,
      Supplier<List<AlertState>> source,
      Notification.Sender sender,
      RoutingRepository repo,
      InstantSource clock,
      Options options) {
    this.config = requireNonNull(config, "config");
    this.source = requireNonNull(source, "source");
    this.sender = requireNonNull(sender, "sender");
    this.repo = requireNonNull(repo, "repo");
    this.clock = requireNonNull(clock, "clock");
    this.options = requireNonNull(options, "options");
    repo.silences().forEach(s -> silences.put(s.id(), s));
  }

  /** Takes in the current alerts and flushes the groups that are due. */
  public synchronized void tick() {
    Instant now = clock.instant();
    reload();
    ingest(now);
    if (tree == null) {
      return;
    }
    for (Group g : new ArrayList<>(groups.values())) {
      if (!g.nextFlush.isAfter(now)) {
        flush(g, now);
      }
    }
    groups.values().removeIf(g -> g.alerts.isEmpty());
  }

  /** Drops old notification log entries and expired silences; called now and then. */
  public synchronized void maintain() {
    Instant now = clock.instant();
    repo.purgeNotified(now);
    Instant before = now.minus(RETENTION);
    repo.purgeSilences(before);
    silences.values().removeIf(s -> s.endsAt().isBefore(before));
  }

  private void reload() {
    RoutingConfig c = config.get().orElse(null);
    if (Objects.equals(c, loaded)) {
      return;
    }
    loaded = c;
    if (c == null) {
      tree = null;
      groups.clear();
      groupsFresh = false;
      return;
    }
    tree = new RouteNode(c.route(), null);
    intervals = new TimeIntervals(c.timeIntervals());
    List<CompiledInhibit> list = new ArrayList<>();
    for (InhibitRule r : c.inhibitRules()) {
      list.add(new CompiledInhibit(r, Matchers.of(r.source()), Matchers.of(r.target())));
    }
    inhibits = list;
    // Groups are made afresh from the alerts on the next ingest; the notification log keeps
    // them from notifying again what their receivers already know.
    groups.clear();
    groupsFresh = false;
  }

  /** The alerts of the last tick by identity: the rules make new ones only when they evaluate. */
  private Map<AlertState, Group.Held> lastTick = new java.util.IdentityHashMap<>();

  /** Whether the groups were filled from the alerts since they were last cleared. */
  private boolean groupsFresh;

  /** Firing and recently resolved alerts of the rules; vanished ones count as resolved now. */
  private void ingest(Instant now) {
    Map<String, Group.Held> current = new HashMap<>();
    Map<AlertState, Group.Held> thisTick = new java.util.IdentityHashMap<>();
    boolean changed = false;
    for (AlertState a : source.get()) {
      if (a.state() == AlertState.State.PENDING) {
        continue;
      }
      Group.Held known = lastTick.get(a);
      if (known != null) {
        // The very alert of the last tick (the rules have not evaluated it since).
        current.put(known.fingerprint(), known);
        thisTick.put(a, known);
        continue;
      }
      changed = true;
      Instant ends = a.state() == AlertState.State.INACTIVE ? a.resolvedAt() : null;
      Instant starts = a.firedAt() != null ? a.firedAt() : a.activeAt();
      String fp = Fingerprints.of(a.labels());
      Group.Held old = seen.get(fp);
      boolean same =
          old != null
              && Objects.equals(old.endsAt(), ends)
              && old.annotations().equals(a.annotations())
              && old.startsAt().equals(starts);
      Group.Held held =
          same ? old : new Group.Held(fp, a.labels(), a.annotations(), starts, ends, ++versions);
      current.put(fp, held);
      thisTick.put(a, held);
    }
    lastTick = thisTick;
    for (Group.Held old : seen.values()) {
      if (!current.containsKey(old.fingerprint()) && old.endsAt() == null) {
        changed = true;
        current.put(
            old.fingerprint(),
            new Group.Held(
                old.fingerprint(),
                old.labels(),
                old.annotations(),
                old.startsAt(),
                now,
                ++versions));
      }
    }
    if (!changed && current.size() == seen.size() && groupsFresh) {
      return; // nothing new since the last tick: the groups hold it already
    }
    seen = current;
    if (tree == null) {
      return;
    }
    groupsFresh = true;
    for (Group.Held h : current.values()) {
      for (RouteNode r : tree.match(h.labels())) {
        Map<String, String> gl = r.groupLabels(h.labels());
        String key = r.key + ":" + Fingerprints.labelSet(gl);
        Group g = groups.get(key);
        if (g == null) {
          if (h.resolved(now)) {
            continue; // a group is not started for an alert that is already over
          }
          g = new Group(r, gl, now, h.startsAt());
          groups.put(key, g);
        }
        Group.Held had = g.alerts.get(h.fingerprint());
        Long delivered = g.delivered.get(h.fingerprint());
        if ((had == null || had.version() != h.version())
            && (delivered == null || delivered != h.version())) {
          g.alerts.put(h.fingerprint(), h);
        }
      }
    }
  }

  private void flush(Group g, Instant now) {
    g.nextFlush = now.plus(g.route.route.groupInterval());
    g.flushed = true;
    List<Group.Held> all = g.snapshot();
    Receiver receiver = loaded.receiver(g.route.route.receiver()).orElse(null);
    List<Group.Held> resolvedNow = all.stream().filter(h -> h.resolved(now)).toList();
    if (receiver == null) {
      g.removeDelivered(resolvedNow);
      return;
    }
    // Time intervals mute the whole group; silences and inhibition single alerts.
    if (intervals.any(g.route.route.muteTimeIntervals(), now)
        || (!g.route.route.activeTimeIntervals().isEmpty()
            && !intervals.any(g.route.route.activeTimeIntervals(), now))) {
      return;
    }
    List<Group.Held> shown = new ArrayList<>();
    for (Group.Held h : all) {
      if (silencedBy(h.labels(), now).isEmpty() && inhibitedBy(h, now).isEmpty()) {
        shown.add(h);
      }
    }
    shown.sort(ALERT_ORDER);
    List<String> firing =
        shown.stream().filter(h -> !h.resolved(now)).map(Group.Held::fingerprint).toList();
    List<String> resolved =
        shown.stream().filter(h -> h.resolved(now)).map(Group.Held::fingerprint).toList();
    List<Receiver.Integration> integrations = receiver.integrations();
    int[] left = {integrations.size()};
    boolean[] allOk = {true};
    if (integrations.isEmpty()) {
      g.removeDelivered(resolvedNow);
      return;
    }
    for (int i = 0; i < integrations.size(); i++) {
      Receiver.Integration in = integrations.get(i);
      String logKey = g.key + "\u0000" + receiver.name() + "/" + in.kind() + "/" + i;
      Optional<RoutingRepository.Notified> last = repo.notified(logKey);
      boolean update =
          !inFlight.contains(logKey)
              && needsUpdate(last.orElse(null), firing, resolved, in.sendResolved(), g, now);
      if (!update) {
        if (--left[0] == 0 && allOk[0]) {
          g.removeDelivered(resolvedNow);
        }
        continue;
      }
      List<Group.Held> sent =
          in.sendResolved() ? shown : shown.stream().filter(h -> !h.resolved(now)).toList();
      Notification n = notification(receiver.name(), g, sent, in, now);
      inFlight.add(logKey);
      options
          .deliveries()
          .execute(
              () -> {
                boolean ok = deliver(in, n, receiver.name());
                synchronized (Router.this) {
                  inFlight.remove(logKey);
                  if (ok) {
                    repo.saveNotified(
                        new RoutingRepository.Notified(
                            logKey, firing, resolved, now, now.plus(RETENTION)));
                  } else {
                    allOk[0] = false;
                  }
                  if (--left[0] == 0 && allOk[0]) {
                    g.removeDelivered(resolvedNow);
                    if (g.alerts.isEmpty()) {
                      groups.remove(g.key, g);
                    }
                  }
                }
              });
    }
  }

  private boolean deliver(Receiver.Integration in, Notification n, String receiver) {
    if (n.alerts().isEmpty()) {
      return true; // only resolved alerts, and this integration does not send those
    }
    try {
      sender.send(in, n);
      count(sent, in.kind());
      return true;
    } catch (Exception e) {
      count(failed, in.kind());
      log.warn("notifying receiver {} ({}) failed: {}", receiver, in.kind(), e.toString());
      return false;
    }
  }

  private final Map<String, java.util.concurrent.atomic.AtomicLong> sent =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, java.util.concurrent.atomic.AtomicLong> failed =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static void count(Map<String, java.util.concurrent.atomic.AtomicLong> m, String kind) {
    m.computeIfAbsent(kind, k -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
  }

  /** The router's own metrics in Prometheus's text format. */
  public String metricsText() {
    StringBuilder b = new StringBuilder();
    b.append("# HELP pilothouse_notifications_total Notifications delivered, by integration.\n");
    b.append("# TYPE pilothouse_notifications_total counter\n");
    for (String kind : List.of("webhook", "slack", "email", "pagerduty", "msteams")) {
      b.append("pilothouse_notifications_total{integration=\"").append(kind).append("\"} ");
      b.append(sent.getOrDefault(kind, new java.util.concurrent.atomic.AtomicLong()).get())
          .append('\n');
    }
    b.append(
        "# HELP pilothouse_notifications_failed_total Notifications that failed after their"
            + " retries, by integration.\n");
    b.append("# TYPE pilothouse_notifications_failed_total counter\n");
    for (String kind : List.of("webhook", "slack", "email", "pagerduty", "msteams")) {
      b.append("pilothouse_notifications_failed_total{integration=\"").append(kind).append("\"} ");
      b.append(failed.getOrDefault(kind, new java.util.concurrent.atomic.AtomicLong()).get())
          .append('\n');
    }
    Instant now = clock.instant();
    Map<String, Long> byState = new TreeMap<>(Map.of("active", 0L, "pending", 0L, "expired", 0L));
    synchronized (this) {
      silences.values().forEach(s -> byState.merge(s.state(now), 1L, Long::sum));
    }
    b.append("# HELP pilothouse_silences Silences by state.\n");
    b.append("# TYPE pilothouse_silences gauge\n");
    byState.forEach(
        (st, n) ->
            b.append("pilothouse_silences{state=\"")
                .append(st)
                .append("\"} ")
                .append(n)
                .append('\n'));
    return b.toString();
  }

  /** Alertmanager's DedupStage: whether this integration must hear about the group now. */
  static boolean needsUpdate(
      RoutingRepository.Notified last,
      List<String> firing,
      List<String> resolved,
      boolean sendResolved,
      Group g,
      Instant now) {
    if (last == null) {
      return !firing.isEmpty();
    }
    if (!new HashSet<>(last.firing()).containsAll(firing)) {
      return true;
    }
    if (firing.isEmpty()) {
      return !last.firing().isEmpty();
    }
    if (sendResolved && !new HashSet<>(last.resolved()).containsAll(resolved)) {
      return true;
    }
    return last.at().isBefore(now.minus(g.route.route.repeatInterval()));
  }

  private Notification notification(
      String receiver, Group g, List<Group.Held> alerts, Receiver.Integration in, Instant now) {
    int max = in instanceof Receiver.Webhook w ? w.maxAlerts() : 0;
    List<Group.Held> kept = max > 0 && alerts.size() > max ? alerts.subList(0, max) : alerts;
    List<Notification.Alert> out = new ArrayList<>();
    boolean anyFiring = false;
    for (Group.Held h : kept) {
      boolean res = h.resolved(now);
      anyFiring |= !res;
      out.add(
          new Notification.Alert(
              res ? "resolved" : "firing",
              h.labels(),
              h.annotations(),
              h.startsAt(),
              res ? h.endsAt() : null,
              options.externalUrl().get() + "/api/v1/alerts",
              h.fingerprint()));
    }
    return new Notification(
        receiver,
        g.key,
        anyFiring ? "firing" : "resolved",
        g.labels,
        common(kept.stream().map(Group.Held::labels).toList()),
        common(kept.stream().map(Group.Held::annotations).toList()),
        options.externalUrl().get(),
        out,
        alerts.size() - kept.size());
  }

  private static Map<String, String> common(List<Map<String, String>> maps) {
    if (maps.isEmpty()) {
      return Map.of();
    }
    Map<String, String> c = new TreeMap<>(maps.get(0));
    for (Map<String, String> m : maps.subList(1, maps.size())) {
      c.entrySet().removeIf(e -> !e.getValue().equals(m.get(e.getKey())));
    }
    return c;
  }

  /** Alertmanager's order in a notification: by job, then instance, then all labels. */
  static final Comparator<Group.Held> ALERT_ORDER =
      (a, b) -> {
        for (String k : new String[] {"job", "instance"}) {
          String x = a.labels().get(k);
          String y = b.labels().get(k);
          if (x == null && y == null) {
            continue;
          }
          if (x == null) {
            return 1;
          }
          if (y == null) {
            return -1;
          }
          if (!x.equals(y)) {
            return x.compareTo(y);
          }
        }
        return Fingerprints.labelSet(a.labels()).compareTo(Fingerprints.labelSet(b.labels()));
      };

  // ---- silences

  /** The ids of the active silences that mute these labels. */
  public synchronized List<String> silencedBy(Map<String, String> labels, Instant now) {
    List<String> out = new ArrayList<>();
    for (Silence s : silences.values()) {
      if (s.state(now).equals("active")
          && compiledSilences.computeIfAbsent(s, x -> Matchers.of(x.matchers())).matches(labels)) {
        out.add(s.id());
      }
    }
    return out;
  }

  /** The fingerprints of the firing alerts that inhibit this one. */
  private List<String> inhibitedBy(Group.Held target, Instant now) {
    List<String> out = new ArrayList<>();
    for (CompiledInhibit r : inhibits) {
      if (!r.target().matches(target.labels())) {
        continue;
      }
      for (Group.Held s : seen.values()) {
        if (s.resolved(now)
            || s.fingerprint().equals(target.fingerprint())
            || !r.source().matches(s.labels())) {
          continue;
        }
        boolean equal = true;
        for (String l : r.rule().equal()) {
          equal &= s.labels().getOrDefault(l, "").equals(target.labels().getOrDefault(l, ""));
        }
        if (equal) {
          out.add(s.fingerprint());
        }
      }
    }
    return out;
  }

  /** Where an alert with these labels goes now, and what mutes it. */
  public record Status(
      String fingerprint,
      List<String> receivers,
      List<String> silencedBy,
      List<String> inhibitedBy) {}

  public synchronized Status status(Map<String, String> labels) {
    Instant now = clock.instant();
    String fp = Fingerprints.of(labels);
    List<String> receivers = new ArrayList<>();
    if (tree != null) {
      tree.match(labels).forEach(r -> receivers.add(r.route.receiver()));
    }
    Group.Held h = seen.get(fp);
    List<String> inhibited = h == null ? List.of() : inhibitedBy(h, now);
    return new Status(fp, receivers, silencedBy(labels, now), inhibited);
  }

  /**
   * Creates a silence (or replaces the one with the given id, as Alertmanager's API does).
   *
   * @throws IllegalArgumentException naming what is wrong with it
   */
  public synchronized Silence silence(
      String id,
      List<LabelMatcher> matchers,
      Instant startsAt,
      Instant endsAt,
      String createdBy,
      String comment) {
    Instant now = clock.instant();
    if (matchers.isEmpty()) {
      throw new IllegalArgumentException("matchers: give at least one matcher");
    }
    if (matchers.size() > MAX_MATCHERS) {
      throw new IllegalArgumentException("matchers: at most " + MAX_MATCHERS + " are allowed");
    }
    Matchers compiled = Matchers.of(matchers); // refuses invalid regular expressions
    if (compiled.matches(Map.of())) {
      throw new IllegalArgumentException(
          "matchers: at least one matcher must not match the empty string, or the silence would"
              + " mute every alert");
    }
    if (!endsAt.isAfter(startsAt)) {
      throw new IllegalArgumentException("endsAt must be after startsAt");
    }
    if (!endsAt.isAfter(now)) {
      throw new IllegalArgumentException("endsAt is in the past: the silence would never mute");
    }
    if (comment.length() > 4096 || createdBy.length() > 256) {
      throw new IllegalArgumentException("comment or createdBy is too long (4 KiB, 256 bytes)");
    }
    String sid = id == null || id.isEmpty() ? UUID.randomUUID().toString() : id;
    Silence old = silences.get(sid);
    if (id != null && !id.isEmpty() && old == null) {
      throw new IllegalArgumentException("no silence with id " + id);
    }
    if (old == null && silences.size() >= MAX_SILENCES) {
      throw new IllegalArgumentException(
          "there are " + MAX_SILENCES + " silences already; expire some first");
    }
    Silence s = new Silence(sid, matchers, startsAt, endsAt, createdBy, comment, now);
    repo.saveSilence(s);
    silences.put(sid, s);
    return s;
  }

  /**
   * Ends a silence now (a pending one never starts).
   *
   * @throws IllegalArgumentException when there is no such silence or it has expired already
   */
  public synchronized Silence expire(String id) {
    Instant now = clock.instant();
    Silence s = silences.get(id);
    if (s == null) {
      throw new IllegalArgumentException("no silence with id " + id);
    }
    if (s.state(now).equals("expired")) {
      throw new IllegalArgumentException("silence " + id + " has expired already");
    }
    Instant starts = s.startsAt().isAfter(now) ? now : s.startsAt();
    Silence e = new Silence(id, s.matchers(), starts, now, s.createdBy(), s.comment(), now);
    repo.saveSilence(e);
    silences.put(id, e);
    return e;
  }

  public synchronized List<Silence> silences() {
    return List.copyOf(silences.values());
  }

  public synchronized Optional<Silence> silence(String id) {
    return Optional.ofNullable(silences.get(id));
  }
}
