package dev.pilothouse.server;

import java.nio.file.Path;

/**
 * The daemon's entry point: {@code Main --state-dir DIR [--api-host H] [--api-port P]}. Started by
 * {@code pilothouse up}; logs to stderr, which {@code up} sends to STATE/daemon.log.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    // Smoke tests send the Host header of host-specific routes.
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
    System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jetty", "warn");
    System.setProperty("org.slf4j.simpleLogger.log.org.flywaydb", "warn");
    System.setProperty("org.slf4j.simpleLogger.log.io.javalin", "warn");
    String stateDir = null;
    String host = "127.0.0.1";
    int port = 9460;
    boolean explicit = false;
    boolean tls = false;
    Path tlsCert = null;
    Path tlsKey = null;
    java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (a) {
        case "--state-dir" -> {
          stateDir = require(a, v);
          i++;
        }
        case "--api-host" -> {
          host = require(a, v);
          i++;
        }
        case "--api-port" -> {
          try {
            port = Integer.parseInt(require(a, v));
          } catch (NumberFormatException e) {
            fail(2, "--api-port needs a number, but got '" + v + "'");
          }
          explicit = true;
          i++;
        }
        case "--store" -> { // as PILOTHOUSE_STORE_URL and its siblings, which these override
          env.put(Daemon.STORE_URL_ENV, require(a, v));
          i++;
        }
        case "--store-user" -> {
          env.put(Daemon.STORE_USER_ENV, require(a, v));
          i++;
        }
        case "--store-password-file" -> {
          env.put(Daemon.STORE_PASSWORD_FILE_ENV, require(a, v));
          i++;
        }
        case "--tls" -> tls = true;
        case "--tls-cert" -> {
          tlsCert = Path.of(require(a, v));
          i++;
        }
        case "--tls-key" -> {
          tlsKey = Path.of(require(a, v));
          i++;
        }
        default ->
            fail(
                2,
                "unknown option '"
                    + a
                    + "'; use --state-dir DIR [--api-host H] [--api-port P] [--tls | --tls-cert F"
                    + " --tls-key K] [--store JDBC_URL [--store-user U] [--store-password-file"
                    + " F]]");
      }
    }
    if (stateDir == null) {
      fail(2, "--state-dir is required");
    }
    NativeLibraries.confine(Path.of(stateDir, "tmp", "native"), java.time.Instant.now());
    org.slf4j.LoggerFactory.getLogger(CpuShare.class)
        .info(
            "{}",
            CpuShare.yieldToDataPlane(
                System.getenv(), Path.of("/proc"), ProcessHandle.current().pid()));
    Daemon daemon;
    try {
      if ((tlsCert == null) != (tlsKey == null)) {
        fail(2, "--tls-cert and --tls-key go together: give both PEM files");
      }
      Daemon.Tls t =
          tlsCert != null ? new Daemon.Tls(tlsCert, tlsKey) : tls ? Daemon.Tls.selfSigned() : null;
      Daemon.Options options = new Daemon.Options(Path.of(stateDir), host, port, explicit, t);
      java.util.Optional<Daemon.StoreConfig> pg;
      try {
        pg = Daemon.StoreConfig.of(env);
      } catch (IllegalArgumentException e) {
        fail(2, e.getMessage());
        return;
      }
      if (pg.isPresent()) { // several daemons may share it: one leads, the others follow
        ClusterMode.run(options, pg.get());
        System.exit(0);
      }
      daemon = Daemon.start(options);
    } catch (Daemon.StartException e) {
      org.slf4j.LoggerFactory.getLogger(Main.class).debug("start failed", e);
      fail(e.exitCode(), e.getMessage());
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> daemon.stop(false), "shutdown"));
    daemon.awaitStop();
    System.exit(0);
  }

  private static String require(String flag, String value) {
    if (value == null) {
      fail(2, flag + " needs a value");
    }
    return value;
  }

  private static void fail(int code, String message) {
    System.err.println("pilothouse daemon: " + message);
    System.exit(code);
  }
}
