package dev.pilothouse.core.runtime;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.instance.InstanceRuntime;
import dev.pilothouse.core.instance.Launch;
import dev.pilothouse.core.instance.LaunchException;
import dev.pilothouse.core.instance.RunningProcess;
import dev.pilothouse.core.spec.Hashing;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs instances as local OS processes, each the leader of its own process group (via setsid), with
 * stdout and stderr appended to a per-instance log file. Every process carries its owner and
 * instance id in its environment so that orphans can be found after a crash.
 */
public final class LocalProcessRuntime implements InstanceRuntime {
  /** Environment variable naming the state directory that owns an instance. */
  public static final String OWNER_ENV = "PILOTHOUSE_OWNER";

  /** Environment variable holding an instance's id. */
  public static final String INSTANCE_ENV = "PILOTHOUSE_INSTANCE_ID";

  private static final Logger log = LoggerFactory.getLogger(LocalProcessRuntime.class);

  private final LogFiles logs;
  private final String owner;
  private final Path secretsRoot;

  private LocalProcessRuntime(LogFiles logs, String owner, Path secretsRoot) {
    this.logs = logs;
    this.owner = owner;
    this.secretsRoot = secretsRoot;
  }

  /** A runtime whose instances belong to stateDir and log under logs. */
  public static LocalProcessRuntime create(Path stateDir, LogFiles logs) {
    requireNonNull(stateDir, "stateDir");
    String owner =
        Hashing.sha256Hex(stateDir.toAbsolutePath().normalize().toString()).substring(0, 16);
    return new LocalProcessRuntime(
        requireNonNull(logs, "logs"), owner, stateDir.resolve("run").resolve("secrets"));
  }

  @Override
  public RunningProcess start(Launch l) {
    if (!Files.isDirectory(l.workdir())) {
      throw new LaunchException(
          "working directory " + l.workdir() + " does not exist; create it or fix 'workdir'");
    }
    String exe = resolve(l.command(), l.workdir(), l.env());
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.add(exe);
    cmd.addAll(l.args());
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(l.workdir().toFile());
    Map<String, String> env = pb.environment();
    Map<String, String> clean = cleanEnvironment(System.getenv(), l.inheritEnv());
    env.clear();
    env.putAll(clean);
    env.putAll(l.env());
    env.put(OWNER_ENV, owner);
    env.put(INSTANCE_ENV, l.instanceId());
    env.put("PILOTHOUSE_SERVICE", l.service());
    Path secretDir = l.secretFiles().isEmpty() ? null : writeSecretFiles(l, env);
    Path logFile = logs.fileFor(l.service(), l.instanceId());
    try {
      Files.createDirectories(logFile.getParent());
      if (!Files.exists(logFile)) {
        Files.createFile( // instances' output may hold secrets: owner-only, whatever the umask
            logFile,
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      }
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      pb.redirectErrorStream(true);
      Process p = pb.start();
      awaitOwnGroup(p);
      long ticks = ProcStat.startTicks(p.pid()).orElse(0L);
      logs.track(l.service(), l.instanceId());
      return new Child(p, ticks, secretDir);
    } catch (IOException e) {
      deleteSecretDir(secretDir);
      throw new LaunchException("could not start '" + exe + "': " + e.getMessage(), e);
    }
  }

  /**
   * Writes each secret file of l into an owner-only directory of the instance (0700, files 0600)
   * and points its variable at it; the directory goes when the instance ends.
   */
  private Path writeSecretFiles(Launch l, Map<String, String> env) {
    Path dir = secretsRoot.resolve(l.instanceId());
    var ownerOnly =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    var fileOnly =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    try {
      Files.createDirectories(secretsRoot, ownerOnly);
      deleteSecretDir(dir); // a leftover of a start that did not finish
      Files.createDirectory(dir, ownerOnly);
      for (var e : l.secretFiles().entrySet()) {
        Path f = dir.resolve(e.getKey());
        Files.createFile(f, fileOnly);
        Files.writeString(f, e.getValue(), StandardCharsets.UTF_8);
        env.put(e.getKey(), f.toString());
      }
      return dir;
    } catch (IOException e) {
      deleteSecretDir(dir);
      throw new LaunchException(
          "could not write the secret files of "
              + l.instanceId()
              + " under "
              + secretsRoot
              + ": "
              + e.getMessage()
              + "; check that the state directory is writable",
          e);
    }
  }

  private static void deleteSecretDir(Path dir) {
    if (dir == null || !Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      log.warn("could not remove the secret files in {}: {}", dir, e.toString());
    }
  }

  /**
   * Waits (briefly) until setsid has made the process its own group leader, so that a signal to the
   * group sent right after start reaches it.
   */
  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitOwnGroup(Process p) {
    for (int i = 0; i < 500 && p.isAlive(); i++) {
      if (ProcStat.processGroup(p.pid()).orElse(-1L) == p.pid()) {
        return;
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** What every instance gets of the daemon's environment, as systemd gives services. */
  static final List<String> BASE_ENV =
      List.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR");

  /**
   * The base variables (and LC_*) of the daemon's environment, plus the names a service inherits
   * ({@code *}: everything): a secret in the shell that ran {@code up} does not reach instances.
   */
  static Map<String, String> cleanEnvironment(Map<String, String> daemon, List<String> inherit) {
    if (inherit.contains("*")) {
      return new java.util.TreeMap<>(daemon);
    }
    Map<String, String> out = new java.util.TreeMap<>();
    daemon.forEach(
        (k, v) -> {
          if (BASE_ENV.contains(k) || k.startsWith("LC_") || inherit.contains(k)) {
            out.put(k, v);
          }
        });
    out.putIfAbsent("PATH", "/usr/local/bin:/usr/bin:/bin");
    return out;
  }

  private static String resolve(String command, Path workdir, Map<String, String> env) {
    if (command.contains("/")) {
      Path p = workdir.resolve(command).normalize();
      if (!Files.isExecutable(p)) {
        throw new LaunchException(
            "command " + p + " does not exist or is not executable; fix 'command' or chmod +x it");
      }
      return p.toString();
    }
    String path = env.getOrDefault("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return Path.of(dir, command).toString();
      }
    }
    throw new LaunchException(
        "command '" + command + "' was not found in PATH; install it or give its full path");
  }

  @Override
  public Optional<RunningProcess> adopt(String instanceId, long pid, long startTicks) {
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isEmpty() || !h.get().isAlive()) {
      return Optional.empty();
    }
    Optional<Long> ticks = ProcStat.startTicks(pid);
    if (ticks.isEmpty() || ticks.get() != startTicks) {
      return Optional.empty(); // the pid was reused by another process
    }
    Map<String, String> env = ProcStat.environ(pid);
    for (int i = 0; i < 20 && env.isEmpty(); i++) {
      sleepMillis(5); // environ reads empty while the process is between fork and exec
      env = ProcStat.environ(pid);
    }
    if (!instanceId.equals(env.get(INSTANCE_ENV))) {
      return Optional.empty();
    }
    Path secretDir = secretsRoot.resolve(instanceId);
    return Optional.of(
        new Adopted(h.get(), startTicks, Files.isDirectory(secretDir) ? secretDir : null));
  }

  @Override
  public Set<Long> reapOrphans(Set<String> keep) {
    Set<Long> killed = new HashSet<>();
    long self = ProcessHandle.current().pid();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        long pid = Long.parseLong(name);
        if (pid == self) {
          continue;
        }
        Map<String, String> env = ProcStat.environ(pid);
        if (!owner.equals(env.get(OWNER_ENV)) || keep.contains(env.get(INSTANCE_ENV))) {
          continue;
        }
        ProcStat.processGroup(pid).ifPresent(pg -> kill("KILL", -pg));
        kill("KILL", pid);
        killed.add(pid);
      }
    } catch (IOException e) {
      log.warn("could not scan /proc for orphans: {}", e.toString());
    }
    if (Files.isDirectory(secretsRoot)) {
      try (Stream<Path> dirs = Files.list(secretsRoot)) {
        dirs.filter(d -> !keep.contains(d.getFileName().toString()))
            .forEach(LocalProcessRuntime::deleteSecretDir);
      } catch (IOException e) {
        log.warn("could not scan {} for orphaned secret files: {}", secretsRoot, e.toString());
      }
    }
    return killed;
  }

  @Override
  public void signal(RunningProcess process, String signal) {
    if (!process.alive()) {
      return;
    }
    kill(signal, -process.pid());
    if (!signal.equals("KILL") && !signal.equals("STOP")) {
      // A stopped process only acts on the signal once it is continued.
      kill("CONT", -process.pid());
    }
  }

  @Override
  public void cleanup(RunningProcess process) {
    kill("KILL", -process.pid());
    if (process instanceof Child c) {
      deleteSecretDir(c.secretDir());
    } else if (process instanceof Adopted a) {
      deleteSecretDir(a.secretDir());
    }
  }

  private static void kill(String signal, long target) {
    String t = target < 0 ? "-" + (-target) : Long.toString(target);
    try {
      Process p =
          new ProcessBuilder("kill", "-s", signal, "--", t)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      log.warn("could not run kill -s {} {}: {}", signal, t, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A process this daemon started: exit code known. */
  private record Child(Process process, long startTicks, Path secretDir) implements RunningProcess {
    @Override
    public long pid() {
      return process.pid();
    }

    @Override
    public boolean alive() {
      return process.isAlive();
    }

    @Override
    public OptionalInt exitCode() {
      return process.isAlive() ? OptionalInt.empty() : OptionalInt.of(process.exitValue());
    }
  }

  /** A process started by an earlier daemon: its exit code is not ours to read. */
  private record Adopted(ProcessHandle handle, long startTicks, Path secretDir)
      implements RunningProcess {
    @Override
    public long pid() {
      return handle.pid();
    }

    @Override
    public boolean alive() {
      // A zombie awaiting its reaper counts as exited.
      return handle.isAlive() && !ProcStat.isZombie(handle.pid());
    }

    @Override
    public OptionalInt exitCode() {
      return OptionalInt.empty();
    }
  }
}
