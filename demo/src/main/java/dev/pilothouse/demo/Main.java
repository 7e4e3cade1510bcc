package dev.pilothouse.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo service: {@code /}, {@code /healthz}, {@code /readyz}, {@code /metrics}, {@code
 * /admin/faults}, {@code /call} (asks {@code DEMO_UPSTREAM}, another service) and more. Listens on
 * 127.0.0.1:$PORT (default 8081).
 */
public final class Main {
  private static final Pattern JSON_PAIR =
      Pattern.compile("\"([A-Za-z_]+)\"\\s*:\\s*(\"[^\"]*\"|[-0-9.eE+]+|true|false)");

  private final String version;
  private final String instance;
  private final Metrics metrics = new Metrics();
  private final long startNanos = System.nanoTime();
  private final List<byte[]> leak = new ArrayList<>();
  private volatile Faults faults;
  private Customers customers; // with DEMO_DB: the expand/contract example's table
  private String upstream = ""; // DEMO_UPSTREAM: what GET /call asks
  private final java.net.http.HttpClient client =
      java.net.http.HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(2)).build();

  private Main(String version, String instance, Faults faults) {
    this.version = version;
    this.instance = instance;
    this.faults = faults;
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> env = System.getenv();
    if (args.length == 2 && args[0].equals("migrate")) {
      System.exit(Migrate.run(args[1], env));
      return;
    }
    int port = Integer.parseInt(env.getOrDefault("PORT", "8081"));
    Faults faults;
    try {
      faults = Faults.fromEnv(env);
    } catch (IllegalArgumentException e) {
      System.err.println("demo: bad DEMO_* setting: " + e.getMessage());
      System.exit(2);
      return;
    }
    Main m =
        new Main(
            env.getOrDefault("DEMO_VERSION", "v1"),
            env.getOrDefault("PILOTHOUSE_INSTANCE_ID", "local"),
            faults);
    m.upstream = env.getOrDefault("DEMO_UPSTREAM", "");
    if (env.containsKey("DEMO_DB")) {
      try {
        m.customers = new Customers(env);
      } catch (java.sql.SQLException e) {
        System.err.println("demo: cannot open DEMO_DB: " + e.getMessage());
        System.exit(2);
        return;
      }
    }
    m.serve(port);
    startupBurn(env.getOrDefault("DEMO_STARTUP_BURN_MS", "0"));
  }

  /**
   * Burns a core for a given CPU time after the server is up, as a JVM's JIT and cache priming do
   * ({@code DEMO_STARTUP_BURN_MS}): the autoscaler's warmup must not read it as load.
   */
  private static void startupBurn(String ms) {
    long millis;
    try {
      millis = Long.parseLong(ms);
    } catch (NumberFormatException e) {
      System.err.println("demo: bad DEMO_STARTUP_BURN_MS '" + ms + "': give milliseconds");
      return;
    }
    if (millis <= 0) {
      return;
    }
    Thread.ofPlatform()
        .daemon()
        .name("startup-burn")
        .start(
            () -> {
              // A fixed amount of work, as a JIT's is: CPU time, not wall time, so a busy machine
              // stretches the burn instead of shortening it (bounded at four times the wall).
              java.lang.management.ThreadMXBean cpu =
                  java.lang.management.ManagementFactory.getThreadMXBean();
              long work = millis * 1_000_000;
              long start = cpu.getCurrentThreadCpuTime();
              long deadline = System.nanoTime() + 4 * work;
              long x = 0;
              while (cpu.getCurrentThreadCpuTime() - start < work && System.nanoTime() < deadline) {
                for (int i = 0; i < 10_000; i++) {
                  x += Long.numberOfTrailingZeros(x + i);
                }
              }
              if (x == 42) {
                System.err.print(""); // keeps the loop from being optimised away
              }
            });
  }

  /** Starts a demo in this process (for tests); stop the returned server when done. */
  static HttpServer start(int port, Map<String, String> env) throws IOException {
    Main m =
        new Main(
            env.getOrDefault("DEMO_VERSION", "v1"),
            env.getOrDefault("PILOTHOUSE_INSTANCE_ID", "local"),
            Faults.fromEnv(env));
    m.upstream = env.getOrDefault("DEMO_UPSTREAM", "");
    return m.serve(port);
  }

  private HttpServer serve(int port) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::root);
    server.createContext(
        "/healthz",
        ex -> {
          hangIfAsked();
          plain(ex, 200, "ok\n");
        });
    server.createContext("/readyz", this::ready);
    server.createContext(
        "/metrics",
        ex -> {
          hangIfAsked();
          plain(ex, 200, metrics.render(version));
        });
    server.createContext("/admin/faults", this::faults);
    server.createContext("/customer", this::customer);
    server.createContext("/buy", this::buy);
    server.createContext("/bytes", this::bytes);
    server.createContext("/call", this::call);
    server.createContext("/hooks/alerts", this::alertHook);
    server.start();
    var timer =
        Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));
    timer.scheduleAtFixedRate(this::everySecond, 1, 1, TimeUnit.SECONDS);
    System.out.println(
        "demo "
            + version
            + " ("
            + instance
            + ") listening on 127.0.0.1:"
            + server.getAddress().getPort()
            + " faults "
            + faults.json());
    return server;
  }

  private double uptimeS() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private void everySecond() {
    Faults f = faults;
    if (f.crashAfterS() > 0 && uptimeS() >= f.crashAfterS()) {
      System.out.println("demo: crashing as configured (crash_after_s=" + f.crashAfterS() + ")");
      System.out.flush();
      Runtime.getRuntime().halt(1);
    }
    if (f.memoryGrowthMbPerS() > 0) {
      leak.add(new byte[(int) (f.memoryGrowthMbPerS() * 1024 * 1024)]);
    }
  }

  private void hangIfAsked() {
    while (faults.hang()) {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void root(HttpExchange ex) throws IOException {
    long t0 = System.nanoTime();
    hangIfAsked();
    if (!ex.getRequestURI().getPath().equals("/")) {
      plain(ex, 404, "not found\n");
      return;
    }
    Faults f = faults;
    if (f.latencyMs() > 0) {
      try {
        Thread.sleep(f.latencyMs());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    int code = ThreadLocalRandom.current().nextDouble() < f.errorRate() ? 500 : 200;
    String body =
        code == 200
            ? "hello from " + version + " (" + instance + ")\n"
            : "injected error from " + version + " (" + instance + ")\n";
    plain(ex, code, body);
    metrics.record(code, (System.nanoTime() - t0) / 1e9);
  }

  /**
   * GET /call: asks DEMO_UPSTREAM (another service, through the load balancer) and says what it
   * answered — {@code upstream 200} — or 504 when it gave no answer within 2 s, 502 when the call
   * failed: a service that depends on another, for partitions between services.
   */
  private void call(HttpExchange ex) throws IOException {
    if (upstream.isEmpty()) {
      plain(ex, 404, "no DEMO_UPSTREAM set\n");
      return;
    }
    try {
      java.net.http.HttpResponse<Void> r =
          client.send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(upstream))
                  .timeout(java.time.Duration.ofSeconds(2))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.discarding());
      plain(ex, 200, "upstream " + r.statusCode() + "\n");
    } catch (java.net.http.HttpTimeoutException e) {
      plain(ex, 504, "upstream timed out\n");
    } catch (IOException | IllegalArgumentException e) {
      plain(ex, 502, "upstream failed: " + e + "\n");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      plain(ex, 503, "interrupted\n");
    }
  }

  /** GET /bytes?n=N: N bytes (at most 64 MiB), for bandwidth measurements. */
  private void bytes(HttpExchange ex) throws IOException {
    String q = ex.getRequestURI().getQuery();
    long n;
    try {
      n = q != null && q.startsWith("n=") ? Long.parseLong(q.substring(2)) : 1024;
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 0 || n > 64L << 20) {
      plain(ex, 400, "give n=BYTES, at most 67108864\n");
      return;
    }
    ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
    ex.sendResponseHeaders(200, n == 0 ? -1 : n);
    byte[] block = new byte[64 * 1024];
    java.util.Arrays.fill(block, (byte) 'x');
    try (java.io.OutputStream out = ex.getResponseBody()) {
      for (long left = n; left > 0; left -= block.length) {
        out.write(block, 0, (int) Math.min(block.length, left));
      }
    }
  }

  /**
   * A visit to the shop's checkout: a purchase with probability DEMO_CONVERSION_RATE (default 0.1),
   * counted in demo_conversions_total — the metric of the A/B example.
   */
  private void buy(HttpExchange ex) throws IOException {
    long t0 = System.nanoTime();
    double rate = Double.parseDouble(System.getenv().getOrDefault("DEMO_CONVERSION_RATE", "0.1"));
    boolean bought = ThreadLocalRandom.current().nextDouble() < rate;
    if (bought) {
      metrics.converted();
    }
    plain(ex, 200, bought ? "bought from " + version + "\n" : "looked at " + version + "\n");
    metrics.record(200, (System.nanoTime() - t0) / 1e9);
  }

  /**
   * POST /hooks/alerts: an Alertmanager-style webhook receiver for the alerting example; prints one
   * line per notification (status, group, alert count) to the instance's log.
   */
  private void alertHook(HttpExchange ex) throws IOException {
    if (!ex.getRequestMethod().equals("POST")) {
      plain(ex, 405, "POST an Alertmanager webhook message\n");
      return;
    }
    byte[] body = ex.getRequestBody().readNBytes(1 << 20);
    String text = new String(body, java.nio.charset.StandardCharsets.UTF_8);
    java.util.regex.Matcher status =
        java.util.regex.Pattern.compile("\"status\":\"(\\w+)\"").matcher(text);
    java.util.regex.Matcher key =
        java.util.regex.Pattern.compile("\"groupKey\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(text);
    int alerts = text.split("\"fingerprint\"", -1).length - 1;
    System.out.println(
        "demo: alert notification "
            + (status.find() ? status.group(1) : "?")
            + " "
            + (key.find() ? key.group(1).replace("\\\"", "\"") : "?")
            + " ("
            + alerts
            + " alert"
            + (alerts == 1 ? "" : "s")
            + ")");
    plain(ex, 200, "ok\n");
  }

  /** GET /customer?id=N (as user x-user) reads one; POST /customer?id=N&name=X writes one. */
  private void customer(HttpExchange ex) throws IOException {
    long t0 = System.nanoTime();
    if (customers == null) {
      plain(ex, 404, "no DEMO_DB\n");
      return;
    }
    Map<String, String> q = query(ex.getRequestURI().getRawQuery());
    int code;
    try {
      int id = Integer.parseInt(q.getOrDefault("id", "1"));
      if (ex.getRequestMethod().equals("POST")) {
        customers.write(id, q.getOrDefault("name", ""));
        code = 200;
        plain(ex, code, "saved\n");
      } else {
        String user = ex.getRequestHeaders().getFirst("x-user");
        String found = customers.read(id, user == null ? "anonymous" : user);
        code = found == null ? 404 : 200;
        plain(ex, code, found == null ? "no customer " + id + "\n" : found + "\n");
      }
    } catch (java.sql.SQLException | NumberFormatException e) {
      code = 500;
      plain(ex, code, "customer request failed: " + e.getMessage() + "\n");
    }
    metrics.record(code, (System.nanoTime() - t0) / 1e9);
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private void ready(HttpExchange ex) throws IOException {
    hangIfAsked();
    boolean ready = uptimeS() >= faults.slowStartS();
    plain(ex, ready ? 200 : 503, ready ? "ready\n" : "starting\n");
  }

  private void faults(HttpExchange ex) throws IOException {
    hangIfAsked();
    if (ex.getRequestMethod().equals("POST")) {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Map<String, String> values = new HashMap<>();
      Matcher m = JSON_PAIR.matcher(body);
      while (m.find()) {
        values.put(m.group(1), m.group(2).replace("\"", ""));
      }
      if (values.isEmpty()) {
        for (String kv : body.split("&")) {
          int eq = kv.indexOf('=');
          if (eq > 0) {
            values.put(
                URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
                URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
          }
        }
      }
      try {
        faults = faults.with(values, "");
      } catch (IllegalArgumentException e) {
        json(ex, 400, "{\"error\":\"" + e.getMessage().replace("\"", "'") + "\"}");
        return;
      }
      System.out.println("demo: faults now " + faults.json());
    }
    json(ex, 200, faults.json());
  }

  private void plain(HttpExchange ex, int code, String body) throws IOException {
    send(ex, code, "text/plain; charset=utf-8", body);
  }

  private void json(HttpExchange ex, int code, String body) throws IOException {
    send(ex, code, "application/json", body);
  }

  private void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("X-Version", version);
    ex.getResponseHeaders().set("X-Instance", instance);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
