package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.proxy.control.ProxyHost;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane as its own process, driven by a {@link ProxyHost} as the daemon drives it: real
 * processes, a real Unix control socket, real HTTP through the proxy.
 */
class ProxyProcessTest {
  @TempDir Path dir;
  final List<AutoCloseable> closeables = new ArrayList<>();
  final List<String> events = new CopyOnWriteArrayList<>();
  final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  final List<ProxyHost> hosts = new ArrayList<>();
  volatile Thread ticker;

  @AfterEach
  void cleanUp() throws Exception {
    stopTicking();
    if (!hosts.isEmpty()) {
      hosts.get(hosts.size() - 1).stop(); // whatever the test did, no proxy outlives it
    }
    hosts.forEach(ProxyHost::close);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  ProxyHost host() {
    return host(false);
  }

  ProxyHost host(boolean standby) {
    ProxyHost h =
        new ProxyHost(
            dir.resolve("proxy.sock"),
            dir.resolve("proxy.pid"),
            dir.resolve("proxy.log"),
            ProxyHost.javaCommand(),
            (type, message, fields) -> events.add(type + " " + fields.getOrDefault("pid", "")),
            standby);
    hosts.add(h);
    return h;
  }

  TestBackend backend(String id) throws Exception {
    TestBackend b = new TestBackend(id);
    closeables.add(b);
    return b;
  }

  static RouteTable table(TestBackend... backends) {
    List<Backend> list = new ArrayList<>();
    for (TestBackend b : backends) {
      list.add(b.backend("v1"));
    }
    return RouteTable.of(List.of(Route.simple("shop", "/", list, RoutePolicy.defaults())));
  }

  /** Calls sync every 50 ms, as the daemon's reconcile tick does, until stopped. */
  void tick(ProxyHost h, ProxyOptions o, AtomicReference<RouteTable> table)
      throws InterruptedException {
    stopTicking();
    ticker =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  while (!Thread.currentThread().isInterrupted()) {
                    h.sync(o, table.get());
                    try {
                      Thread.sleep(50);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
  }

  void stopTicking() throws InterruptedException {
    Thread t = ticker;
    if (t != null) {
      t.interrupt();
      t.join(5000);
      ticker = null;
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  int get(int port) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  ProxyHost.Status awaitServing(ProxyHost h) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> h.status().health().equals("serving") && h.port().isPresent());
    return h.status();
  }

  @Test
  void aStartedProxy_servesEachPushedSnapshot_andReportsPidVersionAndHealth() throws Exception {
    TestBackend one = backend("shop-1");
    TestBackend two = backend("shop-2");
    ProxyHost h = host();
    assertThat(h.status().health()).isEqualTo("down");
    AtomicReference<RouteTable> table = new AtomicReference<>(table(one));
    tick(h, ProxyOptions.plain("127.0.0.1", freePort()), table);

    ProxyHost.Status s = awaitServing(h);
    assertThat(s.pid()).isNotEqualTo(ProcessHandle.current().pid()).isPositive();
    assertThat(ProcessHandle.of(s.pid())).isPresent();
    assertThat(s.transport()).isIn("io_uring", "epoll", "nio");
    assertThat(get(s.port())).isEqualTo(200);
    assertThat(one.requests.get()).isEqualTo(1);

    table.set(table(two));
    await().atMost(Duration.ofSeconds(5)).until(() -> h.status().version() > s.version());
    assertThat(get(s.port())).isEqualTo(200);
    assertThat(two.requests.get()).isEqualTo(1);
    assertThat(events).contains("ProxyStarted " + s.pid());
    assertThat(Files.getPosixFilePermissions(dir.resolve("proxy.sock")))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void anUnchangedSnapshot_isNotPushedAgain_onLaterTicks() throws Exception {
    TestBackend one = backend("shop-1");
    ProxyHost h = host();
    AtomicReference<RouteTable> table = new AtomicReference<>(table(one));
    tick(h, ProxyOptions.plain("127.0.0.1", freePort()), table);
    ProxyHost.Status s = awaitServing(h);

    Thread.sleep(300); // six ticks with the same snapshot object
    assertThat(h.status().version()).isEqualTo(s.version());
    table.set(table(one)); // another object, equal to the served one
    Thread.sleep(300);
    assertThat(h.status().version()).isEqualTo(s.version());
    assertThat(h.status().pid()).isEqualTo(s.pid());
    assertThat(get(s.port())).isEqualTo(200);
  }

  @Test
  void measurements_comeOverTheControlChannel() throws Exception {
    TestBackend one = backend("shop-1");
    ProxyHost h = host();
    tick(h, ProxyOptions.plain("127.0.0.1", freePort()), new AtomicReference<>(table(one)));
    int port = awaitServing(h).port();
    one.status = 503;
    for (int i = 0; i < 5; i++) {
      get(port);
    }
    one.status = 200;
    for (int i = 0; i < 3; i++) {
      get(port);
    }
    var w = h.window(List.of("shop-1"), Duration.ofMinutes(1).toNanos()).orElseThrow();
    assertThat(w.requests()).isEqualTo(8);
    assertThat(w.failures()).isEqualTo(5);
    assertThat(w.latenciesMs()).hasSize(8);
    assertThat(java.util.Arrays.stream(w.latenciesMs()).min().orElseThrow()).isPositive();
    assertThat(h.window(List.of("shop-1"), 1).orElseThrow().requests()).isZero();
    assertThat(h.metricsText())
        .contains("pilothouse_proxy_requests_total{route=\"shop\"")
        .contains("instance=\"shop-1\",class=\"5xx\"} 5");

    one.delayMs = 1500;
    Thread.ofVirtual().start(() -> get(port));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> h.inFlight(List.of("shop-1", "nope")).equals(Map.of("shop-1", 1, "nope", 0)));
  }

  @Test
  void aNewHost_readoptsTheRunningProxy_whileTrafficFlows_withoutOneFailedRequest()
      throws Exception {
    TestBackend one = backend("shop-1");
    ProxyHost first = host();
    ProxyOptions options = ProxyOptions.plain("127.0.0.1", freePort());
    AtomicReference<RouteTable> table = new AtomicReference<>(table(one));
    tick(first, options, table);
    ProxyHost.Status before = awaitServing(first);

    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Thread load = load(before.port(), ok, failed);
    await().until(() -> ok.get() > 20);

    stopTicking();
    first.close(); // the daemon dies: it lets go of the proxy without stopping it
    Thread.sleep(500);
    int servedWithoutDaemon = ok.get();
    Thread.sleep(500);
    assertThat(ok.get()).isGreaterThan(servedWithoutDaemon);

    ProxyHost second = host();
    tick(second, options, table);
    ProxyHost.Status after = awaitServing(second);
    Thread.sleep(300);
    stopLoad = true;
    load.join(10_000);

    assertThat(after.pid()).isEqualTo(before.pid());
    assertThat(after.version()).isGreaterThan(before.version());
    assertThat(events).contains("ProxyAdopted " + before.pid());
    assertThat(failed.get()).isZero();
  }

  @Test
  void aKilledProxy_isReplacedByItsStandby_whichServesWithinTwoSeconds() throws Exception {
    TestBackend one = backend("shop-1");
    ProxyHost h = host(true);
    ProxyOptions options = ProxyOptions.plain("127.0.0.1", freePort());
    tick(h, options, new AtomicReference<>(table(one)));
    ProxyHost.Status before = awaitServing(h);
    await().atMost(Duration.ofSeconds(30)).until(() -> h.status().standbyPid() > 0);
    long standby = h.status().standbyPid();
    assertThat(standby).isNotEqualTo(before.pid());

    ProcessHandle.of(before.pid()).orElseThrow().destroyForcibly(); // kill -9
    long killed = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> get(options.port()) == 200);
    long backMs = (System.nanoTime() - killed) / 1_000_000;
    System.out.println(
        "load balancer kill -9 with a standby: traffic back after " + backMs + " ms");

    assertThat(h.status().pid()).isEqualTo(standby);
    assertThat(events).contains("ProxyExited " + before.pid(), "ProxyStarted " + standby);
    assertThat(backMs).as("traffic back after the kill, ms").isLessThan(2000);
    // A new standby follows, and stop() ends both.
    await().atMost(Duration.ofSeconds(30)).until(() -> h.status().standbyPid() > 0);
    long next = h.status().standbyPid();
    assertThat(next).isNotIn(before.pid(), standby);
    stopTicking();
    h.stop();
    assertThat(ProcessHandle.of(next).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(ProcessHandle.of(standby).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(dir.resolve("proxy-standby.sock")).doesNotExist();
  }

  @Test
  void aKilledProxy_withoutStandby_isReplaced_andServesWithinTwoSeconds() throws Exception {
    TestBackend one = backend("shop-1");
    ProxyHost h = host();
    ProxyOptions options = ProxyOptions.plain("127.0.0.1", freePort());
    tick(h, options, new AtomicReference<>(table(one)));
    ProxyHost.Status before = awaitServing(h);

    ProcessHandle.of(before.pid()).orElseThrow().destroyForcibly(); // kill -9
    long killed = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> get(options.port()) == 200);
    long backMs = (System.nanoTime() - killed) / 1_000_000;

    System.out.println("load balancer kill -9: traffic back after " + backMs + " ms");
    ProxyHost.Status after = h.status();
    assertThat(after.pid()).isNotEqualTo(before.pid());
    assertThat(events).contains("ProxyExited " + before.pid(), "ProxyStarted " + after.pid());
    assertThat(backMs).as("traffic back after the kill, ms").isLessThan(2000);
  }

  @Test
  void aPortInUse_isReportedAsFailing_andTheListenerIsRetriedUntilItStarts() throws Exception {
    TestBackend one = backend("shop-1");
    ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    int port = taken.getLocalPort();
    ProxyHost h = host();
    tick(h, ProxyOptions.plain("127.0.0.1", port), new AtomicReference<>(table(one)));
    await().atMost(Duration.ofSeconds(30)).until(() -> h.status().health().equals("failing"));
    assertThat(h.error()).contains("cannot listen on 127.0.0.1:" + port);
    assertThat(h.port()).isEmpty();
    assertThat(events).anyMatch(e -> e.startsWith("ProxyFailed"));

    taken.close();
    await().atMost(Duration.ofSeconds(15)).until(() -> h.port().isPresent());
    assertThat(get(port)).isEqualTo(200);
  }

  @Test
  void stop_endsTheProcess_andRemovesItsFiles() throws Exception {
    TestBackend one = backend("shop-1");
    ProxyHost h = host();
    tick(h, ProxyOptions.plain("127.0.0.1", freePort()), new AtomicReference<>(table(one)));
    long pid = awaitServing(h).pid();
    stopTicking();

    h.stop();

    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(dir.resolve("proxy.sock")).doesNotExist();
    assertThat(dir.resolve("proxy.pid")).doesNotExist();
    assertThat(h.status().health()).isEqualTo("down");
    assertThat(events).contains("ProxyStopped " + pid);
  }

  @Test
  void aProxyWhoseControlSocketIsRemoved_exitsOnItsOwn() throws Exception {
    TestBackend one = backend("shop-1");
    ProxyHost h = host();
    tick(h, ProxyOptions.plain("127.0.0.1", freePort()), new AtomicReference<>(table(one)));
    long pid = awaitServing(h).pid();
    stopTicking();
    h.close();

    Files.delete(dir.resolve("proxy.sock")); // the state directory is gone

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
  }

  volatile boolean stopLoad;

  /** Sequential GETs on one keep-alive client until stopLoad; counts answers and failures. */
  Thread load(int port, AtomicInteger ok, AtomicInteger failed) {
    return Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!stopLoad) {
                if (get(port) == 200) {
                  ok.incrementAndGet();
                } else {
                  failed.incrementAndGet();
                }
                try {
                  Thread.sleep(5);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
  }
}
