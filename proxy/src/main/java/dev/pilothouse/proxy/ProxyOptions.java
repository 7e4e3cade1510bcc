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
 * @param accessLogMaxBytes the access log is rotated beyond this size
 * @param accessLogKeep rotated access logs kept (access.log.1 … .N)
 * @param trustedProxies peers (addresses or CIDR blocks) whose X-Forwarded-* headers are kept and
 *     extended; from any other peer they are replaced
 * @param bodyTimeout a request body that sends nothing for this long fails (408), and a response
 *     body whose instance sends nothing for this long is cut off
 */
public record ProxyOptions(
    String host,
    int port,
    int ioThreads,
    Path tlsCert,
    Path tlsKey,
    Duration idleTimeout,
    Path accessLog,
    double accessLogSample,
    long accessLogMaxBytes,
    int accessLogKeep,
    java.util.List<String> trustedProxies,
    Duration bodyTimeout) {

  /** 100 MiB of access log and 5 rotated files; no trusted proxies; 30 s body timeout. */
  public ProxyOptions(
      String host,
      int port,
      int ioThreads,
      Path tlsCert,
      Path tlsKey,
      Duration idleTimeout,
      Path accessLog,
      double accessLogSample) {
    this(
        host,
        port,
        ioThreads,
        tlsCert,
        tlsKey,
        idleTimeout,
        accessLog,
        accessLogSample,
        100L << 20,
        5,
        java.util.List.of(),
        Duration.ofSeconds(30));
  }

  public ProxyOptions {
    trustedProxies = java.util.List.copyOf(trustedProxies);
    requireNonNull(bodyTimeout, "bodyTimeout");
    if (accessLogMaxBytes < 4096) {
      throw new IllegalArgumentException(
          "accessLogMaxBytes must be at least 4096, but was " + accessLogMaxBytes);
    }
    if (accessLogKeep < 1) {
      throw new IllegalArgumentException(
          "accessLogKeep must be at least 1, but was " + accessLogKeep);
    }
    if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
      throw new IllegalArgumentException("bodyTimeout must be positive, but was " + bodyTimeout);
    }
    for (String t : trustedProxies) {
      Cidr.parse(t); // refuses a bad entry with its value
    }
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

  /** The same settings on another port. */
  public ProxyOptions withPort(int newPort) {
    return new ProxyOptions(
        host,
        newPort,
        ioThreads,
        tlsCert,
        tlsKey,
        idleTimeout,
        accessLog,
        accessLogSample,
        accessLogMaxBytes,
        accessLogKeep,
        trustedProxies,
        bodyTimeout);
  }

  /** The same settings on another address. */
  public ProxyOptions withHost(String newHost) {
    return new ProxyOptions(
        newHost,
        port,
        ioThreads,
        tlsCert,
        tlsKey,
        idleTimeout,
        accessLog,
        accessLogSample,
        accessLogMaxBytes,
        accessLogKeep,
        trustedProxies,
        bodyTimeout);
  }

  /** Plain HTTP on host:port with defaults. */
  public static ProxyOptions plain(String host, int port) {
    return new ProxyOptions(host, port, 0, null, null, Duration.ofSeconds(60), null, 1.0);
  }
}
