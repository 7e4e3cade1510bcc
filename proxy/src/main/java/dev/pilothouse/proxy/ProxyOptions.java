package dev.pilothouse.proxy;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the data plane listens.
 *
 * @param port 0 picks a free port
 * @param ioThreads event-loop threads; 0 means one per core
 * @param tlsCert PEM certificate chain, or null for plain HTTP
 * @param tlsKey PEM private key (PKCS#8), or null
 * @param idleTimeout client connections idle this long are closed
 * @param accessLog JSON-lines access log file, or null for none
 * @param accessLogSample share of requests logged, in (0, 1]
 */
public record ProxyOptions(
    String host,
    int port,
    int ioThreads,
    Path tlsCert,
    Path tlsKey,
    Duration idleTimeout,
    Path accessLog,
    double accessLogSample) {
  public ProxyOptions {
    requireNonNull(host, "host");
    requireNonNull(idleTimeout, "idleTimeout");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, but was " + port);
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("TLS needs both a certificate and a key");
    }
    if (accessLogSample <= 0 || accessLogSample > 1) {
      throw new IllegalArgumentException(
          "accessLogSample must be in (0, 1], but was " + accessLogSample);
    }
  }

  /** Plain HTTP on host:port with defaults. */
  public static ProxyOptions plain(String host, int port) {
    return new ProxyOptions(host, port, 0, null, null, Duration.ofSeconds(60), null, 1.0);
  }
}
