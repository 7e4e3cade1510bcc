package dev.pilothouse.server;

import dev.pilothouse.core.spec.DeploySpec;
import dev.pilothouse.core.spec.ServiceSpec;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The state backup before a deploy: the previous release (spec with env, and its artifact) is kept
 * for an instant rollback; declared data paths are copied and the {@code preDeploy} hook runs, all
 * before any new instance starts. Each backup is a directory under {@code STATE/backups/SERVICE/}
 * with a {@code backup.json} manifest; the newest {@code keepBackups} are kept.
 */
final class HookBackups implements dev.pilothouse.core.deploy.Backups {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** What a backup did; ok false means the deploy must not go on. */
  /** A backup that failed; the message says why and how to fix it. */
  static final class FailedException extends Exception {
    private static final long serialVersionUID = 1L;

    FailedException(String message) {
      super(message);
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      dev.pilothouse.store.SpecJson.builder()
          .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
          .build();

  private final Path root;

  HookBackups(Path stateDir) {
    this.root = stateDir.resolve("backups");
  }

  /** Backs up before deploying next over previous (revision: the one about to be written). */
  @Override
  public Result run(ServiceSpec previous, ServiceSpec next, long revision, Instant now) {
    long started = System.nanoTime();
    DeploySpec d = next.deploy();
    Path dir = root.resolve(next.name()).resolve(STAMP.format(now) + "-r" + revision);
    int[] files = {0};
    long[] bytes = {0};
    Integer hookExit = null;
    String message;
    boolean ok = true;
    try {
      privateDir(dir);
      Path release = dir.resolve("release.json");
      Files.writeString(release, JSON.writeValueAsString(previous));
      Files.setPosixFilePermissions(release, PosixFilePermissions.fromString("rw-------"));
      keepArtifact(previous, dir.resolve("artifact"), files, bytes);
      for (int i = 0; i < d.dataPaths().size(); i++) {
        Path src = Path.of(d.dataPaths().get(i));
        if (!Files.exists(src, LinkOption.NOFOLLOW_LINKS)) {
          throw new FailedException(
              "data path " + src + " does not exist; create it or remove it from deploy.dataPaths");
        }
        copy(src, dir.resolve("data").resolve(i + "-" + src.getFileName()), files, bytes);
      }
      if (!d.preDeploy().isEmpty()) {
        hookExit = hook(previous, next, dir);
        if (hookExit != 0) {
          throw new FailedException(
              "the preDeploy hook exited with code "
                  + hookExit
                  + "; see "
                  + dir.resolve("pre-deploy.log")
                  + " and fix it before deploying");
        }
      }
      message = "backed up " + files[0] + " files (" + bytes[0] + " bytes) to " + dir;
    } catch (FailedException e) {
      ok = false;
      message = e.getMessage();
    } catch (IOException e) {
      ok = false;
      message = "backup to " + dir + " failed: " + e.getMessage();
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    Result r = new Result(ok, dir.toString(), files[0], bytes[0], hookExit, ms, message);
    writeManifest(dir, previous, next, revision, now, r);
    if (ok) {
      prune(root.resolve(next.name()), d.keepBackups());
    }
    return r;
  }

  private void keepArtifact(ServiceSpec previous, Path into, int[] files, long[] bytes)
      throws IOException {
    String a = previous.deploy().artifact();
    if (a.isEmpty() || !Files.isRegularFile(Path.of(a))) {
      return;
    }
    Files.createDirectories(into);
    copy(Path.of(a), into.resolve(Path.of(a).getFileName()), files, bytes);
  }

  private int hook(ServiceSpec previous, ServiceSpec next, Path dir)
      throws IOException, FailedException {
    DeploySpec d = next.deploy();
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", d.preDeploy());
    pb.directory(Path.of(next.workdir()).toFile());
    pb.environment().putAll(next.env());
    pb.environment().put("PILOTHOUSE_SERVICE", next.name());
    pb.environment().put("PILOTHOUSE_VERSION", previous.version());
    pb.environment().put("PILOTHOUSE_NEW_VERSION", next.version());
    pb.environment().put("PILOTHOUSE_BACKUP_DIR", dir.toString());
    Path logFile = dir.resolve("pre-deploy.log");
    pb.redirectErrorStream(true);
    pb.redirectOutput(logFile.toFile());
    Process p = pb.start();
    try {
      if (!p.waitFor(d.preDeployTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new FailedException(
            "the preDeploy hook did not finish within "
                + d.preDeployTimeout().toSeconds()
                + "s and was killed; see "
                + logFile
                + ", make it faster or raise deploy.preDeployTimeout");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new FailedException("interrupted while the preDeploy hook ran");
    }
    return p.exitValue();
  }

  private static void copy(Path src, Path dst, int[] files, long[] bytes) throws IOException {
    if (Files.isRegularFile(src, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dst.getParent());
      Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
      files[0]++;
      bytes[0] += Files.size(dst);
      return;
    }
    Files.walkFileTree(
        src,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs)
              throws IOException {
            Files.createDirectories(dst.resolve(src.relativize(d).toString()));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
            if (attrs.isRegularFile()) {
              Files.copy(
                  f,
                  dst.resolve(src.relativize(f).toString()),
                  StandardCopyOption.REPLACE_EXISTING,
                  StandardCopyOption.COPY_ATTRIBUTES);
              files[0]++;
              bytes[0] += attrs.size();
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private static void privateDir(Path dir) throws IOException {
    Files.createDirectories(dir.getParent());
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }

  private static void writeManifest(
      Path dir, ServiceSpec previous, ServiceSpec next, long revision, Instant now, Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("service", next.name());
    m.put("from_version", previous.version());
    m.put("to_version", next.version());
    m.put("revision", revision);
    m.put("at", now.toString());
    m.put("ok", r.ok());
    m.put("files", r.files());
    m.put("bytes", r.bytes());
    m.put("pre_deploy", next.deploy().preDeploy());
    m.put("pre_deploy_exit_code", r.hookExit());
    m.put("duration_ms", r.durationMs());
    m.put("message", r.message());
    try {
      if (Files.isDirectory(dir)) {
        Files.writeString(dir.resolve("backup.json"), JSON.writeValueAsString(m));
      }
    } catch (IOException e) {
      // the event still records the result
    }
  }

  /** Keeps the newest n backup directories of a service (names sort by time). */
  private static void prune(Path serviceDir, int keep) {
    List<Path> dirs = new ArrayList<>();
    try (Stream<Path> s = Files.list(serviceDir)) {
      s.filter(Files::isDirectory).forEach(dirs::add);
    } catch (IOException e) {
      return;
    }
    dirs.sort(Comparator.comparing(Path::getFileName).reversed());
    for (Path old : dirs.subList(Math.min(keep, dirs.size()), dirs.size())) {
      deleteTree(old);
    }
  }

  private static void deleteTree(Path p) {
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              x -> {
                try {
                  Files.delete(x);
                } catch (IOException e) {
                  // a leftover file is harmless and retried at the next prune
                }
              });
    } catch (IOException e) {
      // as above
    }
  }
}
