package dev.pilothouse.proxy;

import static java.util.Objects.requireNonNull;

/**
 * One instance traffic can go to.
 *
 * @param id unique id (the instance id); per-backend state survives table swaps by this id
 * @param weight relative share within its group, at least 1
 */
public record Backend(
    String id, String service, String version, String host, int port, int weight) {
  public Backend {
    requireNonNull(id, "id");
    requireNonNull(service, "service");
    requireNonNull(version, "version");
    requireNonNull(host, "host");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be in 1..65535, but was " + port);
    }
    if (weight < 1) {
      throw new IllegalArgumentException("weight must be >= 1, but was " + weight);
    }
  }

  /** A backend of weight 1 on 127.0.0.1. */
  public static Backend of(String id, String service, String version, int port) {
    return new Backend(id, service, version, "127.0.0.1", port, 1);
  }
}
