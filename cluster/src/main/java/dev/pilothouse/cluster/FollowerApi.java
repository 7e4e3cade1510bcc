package dev.pilothouse.cluster;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.core.cluster.LeaseStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API of a daemon that follows: {@code GET /api/v1/leader} says who leads (with the daemon's
 * token), and every other request is forwarded to the leader as it came — method, path, query,
 * headers (the caller's token too: the leader decides what it may do), body — with the answer
 * streamed back (so event and log streams follow through it). With no leader, or one that does not
 * answer, it says so with 503 and Retry-After. Bodies are bounded ({@link #MAX_BODY}).
 */
public final class FollowerApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FollowerApi.class);

  /** The largest request body forwarded (the API's own bound is smaller). */
  public static final int MAX_BODY = 16 << 20;

  /** Headers that belong to one connection (RFC 9110 §7.6.1) or that the client sets itself. */
  private static final Set<String> HOP =
      Set.of(
          "connection",
          "content-length",
          "expect",
          "host",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final HttpClient client;
  private volatile Elector elector;
  private volatile Predicate<String> authorized;

  private FollowerApi(HttpServer server) {
    this.server = server;
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(3))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /**
   * Binds host:port (0: a free port), answering nothing until {@link #serve}.
   *
   * @throws IOException when the address cannot be bound
   */
  public static FollowerApi bind(String host, int port) throws IOException {
    return new FollowerApi(HttpServer.create(new InetSocketAddress(host, port), 64));
  }

  /**
   * Starts answering.
   *
   * @param authorized whether an Authorization header value may read who leads
   */
  public FollowerApi serve(Elector elector, Predicate<String> authorized) {
    this.elector = requireNonNull(elector, "elector");
    this.authorized = requireNonNull(authorized, "authorized");
    server.createContext("/", this::handle);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.start();
    return this;
  }

  /** The port it listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange x) {
    try (x) {
      if (x.getRequestURI().getRawPath().equals("/api/v1/leader")) {
        leader(x);
        return;
      }
      Optional<LeaseStore.Lease> l =
          elector.leader().filter(LeaseStore.Lease::live).filter(a -> !a.address().isEmpty());
      if (l.isEmpty() || l.get().holder().equals(elector.id())) {
        refuse(
            x,
            503,
            "no daemon leads yet"
                + (elector.lastError().isEmpty()
                    ? ""
                    : " (this one cannot reach the store: " + elector.lastError() + ")"),
            "a daemon takes the lead within seconds; retry");
        return;
      }
      forward(x, l.get());
    } catch (IOException e) {
      log.debug("follower API: {}", e.toString()); // the caller went away
    }
  }

  private void leader(HttpExchange x) throws IOException {
    if (!authorized.test(x.getRequestHeaders().getFirst("Authorization"))) {
      refuse(x, 401, "missing or wrong API token", "send Authorization: Bearer TOKEN");
      return;
    }
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("self", elector.id());
    o.put("role", elector.leading() ? "leader" : "follower");
    o.put(
        "leader",
        elector
            .leader()
            .filter(LeaseStore.Lease::live)
            .map(
                l -> {
                  Map<String, Object> m = new LinkedHashMap<>();
                  m.put("id", l.holder());
                  m.put("address", l.address());
                  m.put("site", l.site());
                  m.put("term", l.term());
                  return m;
                })
            .orElse(null));
    o.put("storeError", elector.lastError());
    send(x, 200, o);
  }

  private void forward(HttpExchange x, LeaseStore.Lease to) throws IOException {
    byte[] body;
    try (InputStream in = x.getRequestBody()) {
      body = in.readNBytes(MAX_BODY + 1);
    }
    if (body.length > MAX_BODY) {
      refuse(x, 413, "request body over " + (MAX_BODY >> 20) + " MiB", "send less");
      return;
    }
    String query = x.getRequestURI().getRawQuery();
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(
                    to.address()
                        + x.getRequestURI().getRawPath()
                        + (query == null ? "" : "?" + query)))
            .method(
                x.getRequestMethod(),
                body.length == 0
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    for (Map.Entry<String, List<String>> h : x.getRequestHeaders().entrySet()) {
      if (!HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) {
        for (String v : h.getValue()) {
          b.header(h.getKey(), v);
        }
      }
    }
    b.header("X-Forwarded-For", x.getRemoteAddress().getAddress().getHostAddress());
    b.header("X-Pilothouse-Follower", elector.id());
    HttpResponse<InputStream> r;
    try {
      r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (ConnectException | HttpTimeoutException e) {
      refuse(
          x,
          503,
          "the leader at " + to.address() + " does not answer (" + e + ")",
          "a follower takes over once its lease runs out (seconds); retry");
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    try (InputStream in = r.body()) {
      r.headers()
          .map()
          .forEach(
              (k, v) -> {
                if (!HOP.contains(k.toLowerCase(Locale.ROOT)) && !k.startsWith(":")) {
                  x.getResponseHeaders().put(k, v);
                }
              });
      boolean empty =
          x.getRequestMethod().equals("HEAD") || r.statusCode() == 204 || r.statusCode() == 304;
      x.sendResponseHeaders(r.statusCode(), empty ? -1 : 0);
      if (!empty) {
        OutputStream out = x.getResponseBody();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) >= 0; ) {
          out.write(buf, 0, n);
          out.flush(); // streams (events, logs) reach the caller as they come
        }
      }
    }
  }

  private static void refuse(HttpExchange x, int status, String error, String hint)
      throws IOException {
    if (status == 503) {
      x.getResponseHeaders().set("Retry-After", "2");
    }
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("error", error);
    o.put("hint", hint);
    o.put("problems", List.of());
    send(x, status, o);
  }

  private static void send(HttpExchange x, int status, Object body) throws IOException {
    byte[] b = JSON.writeValueAsBytes(body);
    x.getResponseHeaders().set("Content-Type", "application/json");
    x.sendResponseHeaders(status, b.length);
    x.getResponseBody().write(b);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
