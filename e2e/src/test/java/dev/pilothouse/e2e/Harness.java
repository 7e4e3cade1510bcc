package dev.pilothouse.e2e;

import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.PilotClient;
import dev.pilothouse.client.Wire;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the assembled CLI and daemon as real processes against a temporary state directory, and
 * cleans up every process it caused, whatever the test did.
 */
final class Harness implements AutoCloseable {
  static final String JAVA = ProcessHandle.current().info().command().orElse("java");
  static final String LIB = System.getProperty("pilothouse.lib", "../dist/target/lib");
  private static final List<String> CLI_ARCHIVE =
      dev.pilothouse.client.JvmOptions.classDataArchive(LIB + "/*", "cli-e2e");

  final Path stateDir;
  final Path work;

  /** Variables added to the environment of every CLI run (and so of a daemon it starts). */
  final Map<String, String> cliEnv = new HashMap<>();

  /** What a CLI run printed and returned. */
  record Result(int exit, String out, String err) {}

  /**
   * JVM options added to the daemons of classes that are not {@link QuotedFigures}: C1 only. A
   * daemon spends about 5 s of CPU compiling in its first half minute, 3.4 s of it in C2 (measured
   * with -XX:+CITime); the end-to-end classes start over a hundred daemons that mostly live less
   * than a minute, and daemons were half of the suite's CPU.
   */
  static final String TEST_DAEMON_OPTIONS = "-XX:TieredStopAtLevel=1";

  Harness(Path tmp) throws IOException {
    this.work = tmp;
    this.stateDir = tmp.resolve("state");
    Class<?> caller =
        StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).getCallerClass();
    while (caller.getEnclosingClass() != null) {
      caller = caller.getEnclosingClass();
    }
    if (!caller.isAnnotationPresent(QuotedFigures.class)) {
      cliEnv.put("PILOTHOUSE_DAEMON_OPTS", TEST_DAEMON_OPTIONS);
    }
    // Two classes run at once on two cores, beside their instances, proxies and test JVMs: a
    // daemon whose scheduling group yields to all of them stretches every wait on it. The
    // quick-start test of LoadBalancerTest runs the default and checks it.
    cliEnv.put("PILOTHOUSE_DAEMON_NICE", "0");
  }

  /** As the launcher's `pilothouse demo` does: a class-data archive of the demo's classes. */
  private static final String DEMO_ARCHIVE =
      dev.pilothouse.client.JvmOptions.classDataArchive(LIB + "/*", "demo-e2e").stream()
          .map(o -> "'" + o + "', ")
          .collect(java.util.stream.Collectors.joining());

  /** The demo service's command line, with extra env-driven behaviour left to the spec. */
  static String demoCommand() {
    return "command: "
        + JAVA
        + "\n"
        + "    args: [-XX:+UseSerialGC, -XX:TieredStopAtLevel=1, -Xmx48m, -Xss256k, "
        + DEMO_ARCHIVE
        + "-cp, '"
        + LIB
        + "/*', dev.pilothouse.demo.Main]\n";
  }

  /**
   * A spec of one routed demo service "shop" at this version (DEMO_VERSION set, plus env, e.g. ",
   * DEMO_ERROR_RATE: '0.3'"), ready on /readyz, behind the load balancer on a free port; the caller
   * appends its strategy.
   */
  static String routedShop(String version, int replicas, String env) {
    return "proxy: {port: 0}\n"
        + "services:\n  shop:\n    "
        + demoCommand()
        + "    version: "
        + version
        + "\n"
        + "    replicas: "
        + replicas
        + "\n"
        + "    env: {DEMO_VERSION: "
        + version
        + env
        + "}\n"
        + "    readiness: {http: /readyz, interval: 1s}\n"
        + "    route: /\n";
  }

  /**
   * Load through the load balancer on this port: rate requests a second for d, over 8 connections,
   * each request given 5 s.
   */
  static java.util.concurrent.CompletableFuture<dev.pilothouse.client.load.LoadResult> load(
      int port, double rate, java.time.Duration d) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () ->
            dev.pilothouse.client.load.LoadGenerator.run(
                new dev.pilothouse.client.load.LoadGenerator.Options(
                    java.net.URI.create("http://127.0.0.1:" + port + "/"),
                    rate,
                    d,
                    8,
                    java.time.Duration.ofSeconds(5)),
                null));
  }

  Path writeSpec(String name, String yaml) throws IOException {
    Path f = work.resolve(name);
    Files.writeString(f, yaml);
    return f;
  }

  Result cli(String... args) {
    return cliWithInput(null, args);
  }

  /** Runs the CLI with input on its stdin (null: none). */
  Result cliWithInput(String input, String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(JAVA, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", LIB + "/*"));
    // as the launcher does: a class-data archive of the CLI, made by the first call
    cmd.addAll(2, CLI_ARCHIVE);
    cmd.add("dev.pilothouse.cli.Main");
    cmd.addAll(List.of(args));
    if (!List.of(args).contains("--state-dir")) {
      cmd.addAll(List.of("--state-dir", stateDir.toString()));
    }
    try {
      Path out = Files.createTempFile(work, "out", ".txt");
      Path err = Files.createTempFile(work, "err", ".txt");
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .directory(work.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      // As the ./pilothouse launcher does: examples refer to ${PILOTHOUSE_HOME}/pilothouse.
      pb.environment()
          .put(
              "PILOTHOUSE_HOME",
              Path.of(LIB)
                  .toAbsolutePath()
                  .normalize()
                  .getParent()
                  .getParent()
                  .getParent()
                  .toString());
      pb.environment().putAll(cliEnv);
      if (input != null) {
        Path in = Files.createTempFile(work, "in", ".txt");
        Files.writeString(in, input);
        pb.redirectInput(in.toFile());
      }
      Process p = pb.start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("CLI timed out: " + cmd);
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } catch (IOException e) {
      throw new AssertionError("running " + cmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Runs the CLI and fails the test unless it exits 0. */
  Result ok(String... args) {
    Result r = cli(args);
    if (r.exit() != 0) {
      throw new AssertionError(
          "pilothouse "
              + String.join(" ", args)
              + " exited "
              + r.exit()
              + "\n"
              + r.out()
              + r.err());
    }
    return r;
  }

  Result up(Path spec) {
    return ok("up", "-f", spec.toString(), "--detach", "--api-port", "0", "--timeout", "60");
  }

  PilotClient client() {
    return PilotClient.forStateDir(stateDir)
        .orElseThrow(() -> new AssertionError("no daemon.json in " + stateDir));
  }

  Wire.Status status() {
    return client().status();
  }

  Wire.Service service(String name) {
    return status().services().stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** The load balancer process the daemon recorded, if it still runs. */
  java.util.Optional<Long> proxyPid() {
    return recordedPid("proxy.pid");
  }

  /** A process recorded in a pid file of the state directory, if it still runs. */
  java.util.Optional<Long> recordedPid(String file) {
    try {
      long pid = Long.parseLong(Files.readString(stateDir.resolve(file)).trim().split(" ")[0]);
      return alive(pid) ? java.util.Optional.of(pid) : java.util.Optional.empty();
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  long daemonPid() {
    return PilotClient.info(stateDir).orElseThrow().pid();
  }

  /** Waits until the service has exactly n ready instances and no others. */
  Wire.Service awaitReady(String name, int n, Duration within) {
    await()
        .atMost(within)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              Wire.Service s = service(name);
              return s.readyReplicas() == n && s.instances().size() == n;
            });
    return service(name);
  }

  static void signal(long pid, String signal) {
    try {
      new ProcessBuilder("kill", "-s", signal, Long.toString(pid))
          .start()
          .waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !zombie(pid);
  }

  static boolean zombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return true;
    }
  }

  /** Pids of live processes whose environment says they belong to this state directory. */
  List<Long> ownedProcesses() {
    List<Long> out = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        long pid = Long.parseLong(name);
        Map<String, String> env = environ(pid);
        if (env.containsKey("PILOTHOUSE_INSTANCE_ID") && ownerMatches(env) && alive(pid)) {
          out.add(pid);
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out;
  }

  private boolean ownerMatches(Map<String, String> env) {
    String cwd = env.getOrDefault("PILOTHOUSE_OWNER", "");
    return cwd.equals(owner());
  }

  String owner() {
    try {
      var md = java.security.MessageDigest.getInstance("SHA-256");
      byte[] h =
          md.digest(
              stateDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(h).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static Map<String, String> environ(long pid) {
    Map<String, String> env = new HashMap<>();
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
      for (String kv : new String(raw, StandardCharsets.UTF_8).split("\0")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return env;
  }

  /** Stops the daemon and all instances; kills anything left, so no test leaks processes. */
  @Override
  public void close() {
    if (PilotClient.info(stateDir).isPresent()) {
      cli("down");
    }
    PilotClient.info(stateDir).ifPresent(i -> signal(i.pid(), "KILL"));
    proxyPid().ifPresent(pid -> signal(pid, "KILL"));
    recordedPid("proxy-standby.pid").ifPresent(pid -> signal(pid, "KILL"));
    for (long pid : ownedProcesses()) {
      signal(pid, "KILL");
    }
    // A daemon whose daemon.json is gone (a test that killed or replaced one) is still found by
    // its command line, which names this state directory: none may outlive the test.
    for (long pid : naming(stateDir.toString())) {
      signal(pid, "KILL");
    }
  }

  /** Pids of live processes whose command line names this path (as a whole argument). */
  static List<Long> naming(String path) {
    List<Long> out = new ArrayList<>();
    long self = ProcessHandle.current().pid();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == self) {
          continue;
        }
        try {
          String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          for (String arg : cmd.split("\0")) {
            if (arg.equals(path) || arg.endsWith("=" + path)) {
              out.add(Long.parseLong(name));
              break;
            }
          }
        } catch (IOException gone) {
          // the process ended
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out;
  }
}
