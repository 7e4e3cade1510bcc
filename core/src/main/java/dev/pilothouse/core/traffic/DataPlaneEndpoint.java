package dev.pilothouse.core.traffic;

import static java.util.Objects.requireNonNull;

/**
 * One proxy of a Pilothouse data plane in a cluster (a pod of its Deployment), as the daemon
 * reaches it.
 *
 * @param name its pod's name
 * @param address its pod's IP
 * @param controlPort where its control channel listens (TCP, token first)
 * @param listenPort where it serves the routed services' traffic
 * @param token the control token (never logged: {@link #toString} leaves it out)
 */
public record DataPlaneEndpoint(
    String name, String address, int controlPort, int listenPort, String token) {
  /** The port a cluster's proxies serve traffic on in their pods. */
  public static final int LISTEN_PORT = 8080;

  public DataPlaneEndpoint {
    requireNonNull(name, "name");
    requireNonNull(address, "address");
    requireNonNull(token, "token");
  }

  @Override
  public String toString() {
    return "DataPlaneEndpoint[" + name + " " + address + ":" + controlPort + "]";
  }
}
