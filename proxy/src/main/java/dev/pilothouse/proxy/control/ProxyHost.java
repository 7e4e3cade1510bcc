package dev.pilothouse.proxy.control;

import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.RouteTable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's side of the data-plane process: starts it (or re-adopts the one a previous daemon
 * left running), pushes versioned route snapshots to it, restarts it when it dies, reads its
 * measurements, and stops it on {@code down}. Call {@link #sync} from one thread, regularly (the
 * reconcile tick): a dead proxy is noticed and replaced there.
 */
public final class ProxyHost implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProxyHost.class);

  /** A reply slower than this means the proxy is stuck: the connection is dropped. */
  private static final long CALL_TIMEOUT_MS = 3000;

  /** A started proxy that has not opened its control socket by then is killed and replaced. */
  private static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(20);

  /** A listener that could not start is tried again this often. */
  private static final long RETRY_LISTEN_NANOS = TimeUnit.SECONDS.toNanos(5);

  /**
   * JVM settings of the data plane: a small serial-collected heap (one allocating event loop per
   * core needs no parallel collector, and no collector threads compete with the event loops), full
   * JIT, and Netty's fast paths.
   */
  public static final List<String> JVM_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms128m",
          "-Xmx512m",
          "-XX:NewSize=96m",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:-UsePerfData",
          "-Xss512k",
          "--enable-native-access=ALL-UNNAMED",
          "-Dio.netty.leakDetection.level=disabled",
          "-Dio.netty.tryReflectionSetAccessible=true",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED");

  /** What the daemon tells users about its proxy. */
  public record Status(
      long pid,
      long version,
      int port,
      String transport,
      String health,
      String error,
      long standbyPid) {}

  /** Receives what happens to the proxy process, for the event log. */
  public interface Listener {
    void event(String type, String message, Map<String, String> fields);
  }

  private final Path socket;
  private final Path pidFile;
  private final Path logFile;
  private final List<String> command;
  private final Listener listener;
  private final ScheduledExecutorService watchdog =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("proxy-call-watchdog").unstarted(r));

  private SocketChannel conn;
  private final Path standbySocket;
  private final Path standbyPidFile;
  private final boolean standbyEnabled;
  private ProcessHandle standby;
  private SocketChannel standbyConn;
  private long standbyLaunchedNanos;
  private ProxyOptions wantedOptions;
  private RouteTable wantedTable;
  private ProcessHandle process;
  // The proxies this daemon started, by pid (adopted ones are looked up in /proc).
  private final Map<Long, Process> children = new java.util.concurrent.ConcurrentHashMap<>();
  private long launchedNanos;
  private boolean adoptedOnce;
  private long version;
  private ProxyOptions servedOptions;
  private RouteTable servedTable;
  private String error = "";
  private long retryListenAt;
  private int port;
  private String transport = "";

  /**
   * @param command how to start a proxy (java, its flags, classpath and main class); the host adds
   *     {@code --control SOCKET}
   */
  public ProxyHost(Path socket, Path pidFile, Path logFile, List<String> command, Listener l) {
    this(socket, pidFile, logFile, command, l, true);
  }

  /**
   * @param standby keep a second, warmed-up proxy process ready to take over in milliseconds when
   *     the proxy dies (it costs a JVM's memory); without one, a fresh JVM replaces it in about a
   *     second
   */
  public ProxyHost(
      Path socket, Path pidFile, Path logFile, List<String> command, Listener l, boolean standby) {
    this.socket = socket;
    this.pidFile = pidFile;
    this.standbySocket = socket.resolveSibling("proxy-standby.sock");
    this.standbyPidFile = pidFile.resolveSibling("proxy-standby.pid");
    this.standbyEnabled = standby;
    this.logFile = logFile;
    this.command = List.copyOf(command);
    this.listener = l;
  }

  /** The command that starts a proxy from this JVM's own java and classpath. */
  public static List<String> javaCommand() {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    String opts = System.getenv("PILOTHOUSE_PROXY_JAVA_OPTS");
    if (opts != null && !opts.isBlank()) {
      cmd.addAll(List.of(opts.trim().split("\\s+")));
    } else {
      cmd.addAll(JVM_FLAGS);
      if (Runtime.version().feature() >= 23) {
        cmd.add("--sun-misc-unsafe-memory-access=allow");
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ProxyProcess.class.getName()));
    return cmd;
  }

  /**
   * Makes the proxy serve these options and routes: connects to (or starts) the process, and pushes
   * a new snapshot when it differs from what the proxy serves.
   */
  public synchronized void sync(ProxyOptions options, RouteTable table) {
    wantedOptions = options;
    wantedTable = table;
    if (process != null && !running(process)) {
      long pid = process.pid();
      disconnect();
      process = null;
      boolean tookOver = promoteStandby();
      listener.event(
          "ProxyExited",
          "load balancer process "
              + pid
              + " exited; "
              + (tookOver ? "its standby took over" : "starting a new one"),
          Map.of("pid", Long.toString(pid)));
    }
    if (conn == null && !connect()) {
      return;
    }
    boolean retry = !error.isEmpty() && System.nanoTime() - retryListenAt >= 0;
    if (retry
        || options != servedOptions && !sameListener(options, servedOptions)
        || table != servedTable && !table.equals(servedTable)) {
      push(options, table);
    }
    if (standbyEnabled && error.isEmpty() && servedOptions != null) {
      ensureStandby();
    }
  }

  // ---- the standby: a started, warmed-up proxy process that serves nothing until it takes over

  /**
   * Makes the standby the proxy: it moves its control channel to the proxy's socket and gets the
   * current snapshot at the next push (at once, in the same sync). False without a live standby.
   */
  private boolean promoteStandby() {
    if (standbyConn == null || standby == null || !running(standby)) {
      dropStandby();
      return false;
    }
    Protocol.Reply r =
        call(
            standbyConn,
            new Protocol.Request(Protocol.Op.MOVE, 0, null, null, null, 0, socket.toString()));
    if (r == null || !r.ok()) {
      dropStandby();
      return false;
    }
    conn = standbyConn;
    process = standby;
    standbyConn = null;
    standby = null;
    servedOptions = null;
    servedTable = null;
    version = Math.max(version, r.version());
    try {
      record(pidFile, process);
      Files.deleteIfExists(standbyPidFile);
    } catch (IOException e) {
      log.warn("recording the load balancer's pid: {}", e.toString());
    }
    ProcessHandle took = process;
    took.onExit().thenRunAsync(() -> replaceIfCurrent(took), Thread::startVirtualThread);
    listener.event(
        "ProxyStarted",
        "the standby load balancer (pid " + took.pid() + ") took over",
        Map.of("pid", Long.toString(took.pid()), "standby", "true"));
    return true;
  }

  /** Starts (or re-adopts) the standby and connects to it once its socket is open. */
  private void ensureStandby() {
    if (standby != null && !running(standby)) {
      dropStandby();
    }
    if (standby == null) {
      standby = recorded(standbyPidFile).orElse(null);
      standbyLaunchedNanos = System.nanoTime();
      if (standby == null) {
        try {
          standby = start(standbySocket, standbyPidFile).toHandle();
          log.info("started a standby load balancer (pid {})", standby.pid());
        } catch (IOException e) {
          log.warn("cannot start a standby load balancer: {}", e.toString());
          return;
        }
      }
    }
    if (standbyConn == null && Files.exists(standbySocket)) {
      try {
        SocketChannel ch = open(standbySocket);
        Protocol.Reply hello = call(ch, Protocol.Request.of(Protocol.Op.HELLO));
        if (hello == null || hello.protocol() != Protocol.VERSION || hello.pid() != standby.pid()) {
          ch.close();
          standby.destroyForcibly();
          dropStandby();
          return;
        }
        standbyConn = ch;
      } catch (IOException e) {
        // not listening yet
      }
    } else if (standbyConn == null
        && System.nanoTime() - standbyLaunchedNanos > START_TIMEOUT_NANOS) {
      standby.destroyForcibly();
      dropStandby();
    }
  }

  private void dropStandby() {
    if (standbyConn != null) {
      try {
        standbyConn.close();
      } catch (IOException ignored) {
        // gone anyway
      }
    }
    standbyConn = null;
    standby = null;
  }

  /**
   * Whether the proxy serves these listener settings; "any port" (0) is served by the port it got,
   * so a replaced or re-adopted proxy keeps the port clients already use.
   */
  private static boolean sameListener(ProxyOptions wanted, ProxyOptions served) {
    return served != null
        && (wanted.equals(served) || (wanted.port() == 0 && wanted.equals(served.withPort(0))));
  }

  /** A connection to a proxy's control socket; nothing is left open when it fails. */
  private static SocketChannel open(Path control) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.connect(UnixDomainSocketAddress.of(control));
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private boolean connect() {
    try {
      conn = open(socket);
    } catch (IOException | UnsupportedOperationException e) {
      ensureStarting();
      return false;
    }
    Protocol.Reply hello = call(Protocol.Request.of(Protocol.Op.HELLO));
    if (hello == null) {
      return false;
    }
    if (hello.protocol() != Protocol.VERSION) {
      log.warn(
          "the running load balancer (pid {}) speaks control protocol {}, this daemon {}:"
              + " replacing it",
          hello.pid(),
          hello.protocol(),
          Protocol.VERSION);
      call(Protocol.Request.of(Protocol.Op.STOP));
      disconnect();
      awaitExit(ProcessHandle.of(hello.pid()), 5000);
      process = null;
      return false;
    }
    boolean adopted = process == null || process.pid() != hello.pid();
    if (adopted) {
      process = ProcessHandle.of(hello.pid()).orElse(null);
    }
    version = Math.max(version, hello.version());
    if (hello.port() > 0) {
      port = hello.port(); // a fresh proxy does not listen yet: keep the port to ask it for
    }
    transport = hello.transport();
    servedOptions = hello.options(); // the table is pushed again: cheap, and certainly current
    servedTable = null;
    if (adopted && !adoptedOnce) {
      listener.event(
          "ProxyAdopted",
          "re-adopted the running load balancer (pid "
              + hello.pid()
              + ", snapshot "
              + hello.version()
              + ")",
          Map.of("pid", Long.toString(hello.pid()), "version", Long.toString(hello.version())));
    }
    adoptedOnce = true;
    return true;
  }

  /**
   * Whether the process runs: a killed proxy left to a slow reaper (the previous daemon was its
   * parent) is a zombie, which {@link ProcessHandle#isAlive} still counts as alive.
   */
  private boolean running(ProcessHandle p) {
    Process child = children.get(p.pid());
    if (child == null) {
      return alive(p);
    }
    // A process this daemon started: the JDK reaps it, so its own flag says, without reading /proc.
    if (child.isAlive()) {
      return true;
    }
    children.remove(p.pid());
    return false;
  }

  static boolean alive(ProcessHandle p) {
    if (!p.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return p.isAlive();
    }
  }

  /** Starts a proxy unless one is already starting (or recorded in the pid file and alive). */
  private void ensureStarting() {
    if (process == null) {
      process = recorded().orElse(null);
      if (process != null) {
        launchedNanos = System.nanoTime(); // a recorded proxy gets the start timeout to answer
      }
    }
    if (process != null && running(process)) {
      if (System.nanoTime() - launchedNanos < START_TIMEOUT_NANOS) {
        return;
      }
      log.warn("load balancer pid {} never opened its control socket: killing it", process.pid());
      process.destroyForcibly();
      awaitExit(Optional.of(process), 5000);
    }
    launch();
  }

  /** Starts a proxy process controlled over control, and records it in pids. */
  private Process start(Path control, Path pids) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid"); // its own session: a terminal's Ctrl-C for the daemon does not reach it
    cmd.addAll(command);
    cmd.addAll(List.of("--control", control.toString()));
    Files.deleteIfExists(control);
    Files.createDirectories(logFile.getParent());
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .redirectErrorStream(true);
    // Not an instance: the daemon's orphan reaper must not take it for one.
    pb.environment().keySet().removeIf(k -> k.startsWith("PILOTHOUSE_OWNER"));
    Process p = pb.start();
    children.values().removeIf(c -> !c.isAlive());
    children.put(p.pid(), p);
    record(pids, p.toHandle());
    return p;
  }

  private static void record(Path pids, ProcessHandle p) throws IOException {
    Files.writeString(
        pids,
        p.pid() + " " + p.info().startInstant().map(Instant::toEpochMilli).orElse(0L),
        StandardCharsets.UTF_8);
  }

  private void launch() {
    try {
      Process p = start(socket, pidFile);
      process = p.toHandle();
      ProcessHandle started = process;
      // Noticed at once, not at the next tick: a replacement starts as soon as this one dies.
      p.onExit().thenRunAsync(() -> replaceIfCurrent(started), Thread::startVirtualThread);
      Thread.startVirtualThread(() -> connectWhenListening(started));
      launchedNanos = System.nanoTime();
      adoptedOnce = true; // a proxy this daemon started is not "adopted" when it first answers
      listener.event(
          "ProxyStarted",
          "started the load balancer process (pid " + p.pid() + ")",
          Map.of("pid", Long.toString(p.pid())));
    } catch (IOException e) {
      process = null;
      String message = "cannot start the load balancer process: " + e.getMessage();
      if (!message.equals(error)) {
        listener.event("ProxyFailed", message, Map.of());
      }
      error = message;
      log.warn(message);
    }
  }

  private synchronized void replaceIfCurrent(ProcessHandle exited) {
    if (process == exited && wantedOptions != null) {
      sync(wantedOptions, wantedTable);
    }
  }

  /**
   * Connects and pushes the wanted snapshot as soon as a just-started proxy opens its control
   * socket, rather than at the next tick.
   */
  private void connectWhenListening(ProcessHandle started) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline && started.isAlive() && !Files.exists(socket)) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        return;
      }
    }
    synchronized (this) {
      if (process == started && conn == null && wantedOptions != null) {
        sync(wantedOptions, wantedTable);
      }
    }
  }

  /** The proxy recorded in the pid file, if that process still runs (same pid, same start). */
  private Optional<ProcessHandle> recorded() {
    return recorded(pidFile);
  }

  private static Optional<ProcessHandle> recorded(Path pids) {
    try {
      String[] f = Files.readString(pids, StandardCharsets.UTF_8).trim().split(" ");
      long pid = Long.parseLong(f[0]);
      long started = Long.parseLong(f[1]);
      return ProcessHandle.of(pid)
          .filter(ProxyHost::alive)
          .filter(h -> h.info().startInstant().map(Instant::toEpochMilli).orElse(-1L) == started);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private void push(ProxyOptions options, RouteTable table) {
    long next = version + 1;
    // "Any port" keeps the port this proxy (or the one it replaces) already got; if that port is
    // taken meanwhile, the failed attempt leaves port at 0 and the retry takes any.
    boolean keepPort =
        options.port() == 0
            && port > 0
            && (servedOptions == null || sameListener(options, servedOptions));
    ProxyOptions send = keepPort ? options.withPort(port) : options;
    Protocol.Reply r =
        call(new Protocol.Request(Protocol.Op.APPLY, next, send, table.routes(), null, 0));
    if (r == null) {
      return;
    }
    boolean listenerChanged = r.port() != port || !sameListener(options, servedOptions);
    version = r.version();
    servedOptions = options;
    servedTable = table;
    port = r.port();
    transport = r.transport();
    if (!r.ok()) {
      retryListenAt = System.nanoTime() + RETRY_LISTEN_NANOS;
      if (!r.error().equals(error)) {
        listener.event("ProxyFailed", r.error(), Map.of());
        log.warn("load balancer: {}", r.error());
      }
      error = r.error();
      return;
    }
    if (!error.isEmpty() || listenerChanged) {
      listener.event(
          "ProxyListening",
          "load balancer listening on " + options.host() + ":" + port + " (" + transport + ")",
          Map.of(
              "port", Integer.toString(port),
              "pid", Long.toString(r.pid()),
              "version", Long.toString(r.version())));
    }
    error = "";
  }

  /** One request and its answer; null (and disconnected) when the proxy does not answer. */
  private Protocol.Reply call(Protocol.Request request) {
    SocketChannel ch = conn;
    if (ch == null) {
      return null;
    }
    Protocol.Reply r = call(ch, request);
    if (r == null) {
      disconnect();
    }
    return r;
  }

  /** One request on ch and its answer; null when it does not come within the call timeout. */
  private Protocol.Reply call(SocketChannel ch, Protocol.Request request) {
    return call(watchdog, ch, request);
  }

  /**
   * One request on ch and its answer; null when it does not come within the call timeout (the
   * watchdog then closes ch).
   */
  static Protocol.Reply call(
      ScheduledExecutorService watchdog, SocketChannel ch, Protocol.Request request) {
    ScheduledFuture<?> timeout =
        watchdog.schedule(
            () -> {
              try {
                ch.close(); // unblocks the read below
              } catch (IOException ignored) {
                // closing anyway
              }
            },
            CALL_TIMEOUT_MS,
            TimeUnit.MILLISECONDS);
    try {
      Protocol.write(ch, request);
      return Protocol.readReply(ch);
    } catch (IOException e) {
      log.debug("load balancer control call {} failed: {}", request.op(), e.toString());
      return null;
    } finally {
      timeout.cancel(false);
    }
  }

  private void disconnect() {
    if (conn != null) {
      try {
        conn.close();
      } catch (IOException ignored) {
        // gone anyway
      }
      conn = null;
    }
    servedOptions = null;
    servedTable = null;
  }

  /** Requests in flight to each of these instances (0 for unknown ones, or without a proxy). */
  public synchronized Map<String, Integer> inFlight(Collection<String> instances) {
    Protocol.Reply r =
        call(new Protocol.Request(Protocol.Op.IN_FLIGHT, 0, null, null, List.copyOf(instances), 0));
    return r == null || r.inFlight() == null ? Map.of() : r.inFlight();
  }

  /**
   * Requests each of these instances has answered so far, and has in flight now; empty without a
   * proxy.
   */
  public synchronized Optional<Protocol.Reply> load(Collection<String> instances) {
    Protocol.Reply r =
        call(new Protocol.Request(Protocol.Op.LOAD, 0, null, null, List.copyOf(instances), 0));
    return r == null || r.requestTotals() == null ? Optional.empty() : Optional.of(r);
  }

  /** Requests of these instances that ended within the last agoNanos. */
  public synchronized Optional<Protocol.Reply> window(Collection<String> instances, long agoNanos) {
    return Optional.ofNullable(
        call(
            new Protocol.Request(
                Protocol.Op.WINDOW, 0, null, null, List.copyOf(instances), agoNanos)));
  }

  /** The proxy's RED metrics in Prometheus text format; empty without a proxy. */
  public synchronized String metricsText() {
    Protocol.Reply r = call(Protocol.Request.of(Protocol.Op.METRICS));
    return r == null || r.text() == null ? "" : r.text();
  }

  /** Pid, snapshot version, port and health. */
  public synchronized Status status() {
    long pid = process == null ? 0 : process.pid();
    String health;
    if (process == null || !running(process)) {
      health = "down";
    } else if (conn == null) {
      health = "starting";
    } else if (!error.isEmpty()) {
      health = "failing";
    } else if (servedOptions == null) {
      health = "connecting";
    } else {
      health = "serving";
    }
    long spare = standby != null && standbyConn != null && running(standby) ? standby.pid() : 0;
    return new Status(pid, version, port, transport, health, error, spare);
  }

  /** The port the proxy listens on, if it does. */
  public synchronized Optional<Integer> port() {
    return conn != null && error.isEmpty() && port > 0 ? Optional.of(port) : Optional.empty();
  }

  /** Why the proxy is not listening, or empty. */
  public synchronized String error() {
    return error;
  }

  /** Stops the proxy process (the spec routes nothing any more, or {@code down}). */
  public synchronized void stop() {
    wantedOptions = null;
    wantedTable = null;
    Optional<ProcessHandle> spare = Optional.ofNullable(standby).or(() -> recorded(standbyPidFile));
    dropStandby();
    spare.ifPresent(ProcessHandle::destroy);
    // The standby and the serving process stop side by side; then both are waited for.
    if (conn == null) {
      connectQuietly();
    }
    Optional<ProcessHandle> p = Optional.ofNullable(process).or(this::recorded);
    if (conn != null) {
      call(Protocol.Request.of(Protocol.Op.STOP));
      disconnect();
    }
    if (spare.isPresent() && !awaitExit(spare, 5000)) {
      spare.get().destroyForcibly();
      awaitExit(spare, 5000);
    }
    try {
      Files.deleteIfExists(standbyPidFile);
      Files.deleteIfExists(standbySocket);
    } catch (IOException e) {
      log.warn("removing the standby load balancer's files: {}", e.toString());
    }
    if (p.isPresent() && !awaitExit(p, 5000)) {
      p.get().destroy();
      if (!awaitExit(p, 5000)) {
        p.get().destroyForcibly();
        awaitExit(p, 5000);
      }
    }
    p.ifPresent(
        h ->
            listener.event(
                "ProxyStopped",
                "stopped the load balancer process (pid " + h.pid() + ")",
                Map.of("pid", Long.toString(h.pid()))));
    process = null;
    port = 0;
    error = "";
    try {
      Files.deleteIfExists(pidFile);
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      log.warn("removing the load balancer's files: {}", e.toString());
    }
  }

  private void connectQuietly() {
    try {
      conn = open(socket);
    } catch (IOException e) {
      conn = null;
    }
  }

  private static boolean awaitExit(Optional<ProcessHandle> p, long ms) {
    if (p.isEmpty()) {
      return true;
    }
    try {
      p.get().onExit().get(ms, TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return !p.get().isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !p.get().isAlive();
    }
  }

  /** Lets go of the proxy without stopping it: it keeps serving for the next daemon. */
  @Override
  public synchronized void close() {
    wantedOptions = null; // a proxy that dies now is the next daemon's to replace
    wantedTable = null;
    disconnect();
    dropStandby(); // the standby keeps waiting, for the next daemon
    watchdog.shutdownNow();
  }
}
