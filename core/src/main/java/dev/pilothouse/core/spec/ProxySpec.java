package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The built-in load balancer's listener.
 *
 * @param port 0 picks a free port
 * @param tlsCert PEM certificate file, empty for plain HTTP
 * @param tlsKey PEM (PKCS#8) key file, empty for plain HTTP
 * @param accessLogSample share of requests written to the access log; 0 turns it off
 */
public record ProxySpec(
    String host,
    int port,
    String tlsCert,
    String tlsKey,
    Duration idleTimeout,
    double accessLogSample) {
  public ProxySpec {
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
