package dev.pilothouse.core.instance;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything a runtime needs to start one instance.
 *
 * @param env the complete declared environment, with ${PORT} already substituted (secrets given as
 *     values resolved)
 * @param secretFiles variables whose value is the path of an owner-only file the runtime writes
 *     with the given content (secrets given as files), removed when the instance ends
 */
public record Launch(
    String instanceId,
    String service,
    String command,
    List<String> args,
    Map<String, String> env,
    Path workdir,
    int port,
    List<String> inheritEnv,
    Map<String, String> secretFiles) {

  /** A launch without secret files. */
  public Launch(
      String instanceId,
      String service,
      String command,
      List<String> args,
      Map<String, String> env,
      Path workdir,
      int port,
      List<String> inheritEnv) {
    this(instanceId, service, command, args, env, workdir, port, inheritEnv, Map.of());
  }

  /** A launch that inherits nothing beyond the clean base environment. */
  public Launch(
      String instanceId,
      String service,
      String command,
      List<String> args,
      Map<String, String> env,
      Path workdir,
      int port) {
    this(instanceId, service, command, args, env, workdir, port, List.of());
  }

  @Override
  public String toString() { // values may be secrets: never in logs or exceptions
    return "Launch[" + instanceId + " of " + service + ": " + command + "]";
  }

  public Launch {
    inheritEnv = List.copyOf(inheritEnv);
    requireNonNull(instanceId, "instanceId");
    requireNonNull(service, "service");
    requireNonNull(command, "command");
    args = List.copyOf(args);
    env = Map.copyOf(env);
    secretFiles = Map.copyOf(secretFiles);
    requireNonNull(workdir, "workdir");
  }
}
