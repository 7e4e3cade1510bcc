package dev.pilothouse.core.instance;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything a runtime needs to start one instance.
 *
 * @param env the complete declared environment, with ${PORT} already substituted
 */
public record Launch(
    String instanceId,
    String service,
    String command,
    List<String> args,
    Map<String, String> env,
    Path workdir,
    int port,
    List<String> inheritEnv) {

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

  public Launch {
    inheritEnv = List.copyOf(inheritEnv);
    requireNonNull(instanceId, "instanceId");
    requireNonNull(service, "service");
    requireNonNull(command, "command");
    args = List.copyOf(args);
    env = Map.copyOf(env);
    requireNonNull(workdir, "workdir");
  }
}
