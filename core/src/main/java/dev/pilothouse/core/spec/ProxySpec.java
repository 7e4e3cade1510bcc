package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * The built-in load balancer's listener.
 *
 * @param port 0 picks a free port
 * @param tlsCert PEM certificate file, empty for plain HTTP
 * @param tlsKey PEM (PKCS#8) key file, empty for plain HTTP
 * @param accessLogSample share of requests written to the access log; 0 turns it off
 * @param accessLogMaxSize bytes after which the access log is rotated
 * @param accessLogKeep rotated access logs kept
 * @param trustedProxies addresses or CIDR blocks whose X-Forwarded-* headers are kept
 * @param bodyTimeout a request or response body idle this long is cut off (408 or a close)
 */
public record ProxySpec(
    String host,
    int port,
    String tlsCert,
    String tlsKey,
    Duration idleTimeout,
    double accessLogSample,
    long accessLogMaxSize,
    int accessLogKeep,
    List<String> trustedProxies,
    Duration bodyTimeout) {

  /** A listener with the default access-log rotation, body timeout and no trusted proxies. */
  public ProxySpec(
      String host,
      int port,
      String tlsCert,
      String tlsKey,
      Duration idleTimeout,
      double accessLogSample) {
    this(host, port, tlsCert, tlsKey, idleTimeout, accessLogSample, 0, 0, List.of(), null);
  }

  public ProxySpec {
    // Revisions stored before a field existed read it as 0 or null: the default then.
    accessLogMaxSize = accessLogMaxSize <= 0 ? 100L << 20 : accessLogMaxSize;
    accessLogKeep = accessLogKeep <= 0 ? 5 : accessLogKeep;
    trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
    bodyTimeout = bodyTimeout == null ? Duration.ofSeconds(30) : bodyTimeout;
    requireNonNull(host, "host");
    requireNonNull(tlsCert, "tlsCert");
    requireNonNull(tlsKey, "tlsKey");
    requireNonNull(idleTimeout, "idleTimeout");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, but was " + port);
    }
  }

  /** 127.0.0.1:8080, plain HTTP, 60s idle timeout, every request logged. */
  public static ProxySpec defaults() {
    return new ProxySpec("127.0.0.1", 8080, "", "", Duration.ofSeconds(60), 1.0);
  }
}
