package dev.pilothouse.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.core.instance.Launch;
import dev.pilothouse.core.instance.RunningProcess;
import dev.pilothouse.core.runtime.LocalProcessRuntime;
import dev.pilothouse.core.runtime.LogFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Instances started with libfaketime (Debian's package, installed by ./test), real processes. */
class ClockRuntimeTest {
  @TempDir Path dir;
  final List<RunningProcess> started = new ArrayList<>();
  LocalProcessRuntime local;

  @AfterEach
  void killAll() {
    started.forEach(p -> local.signal(p, "KILL"));
  }

  private ClockRuntime runtime(Set<String> services) {
    local =
        LocalProcessRuntime.create(
            dir, new LogFiles(dir.resolve("logs"), 4096, 5, InstantSource.system()));
    return new ClockRuntime(local, dir.resolve("clock"), () -> services, ClockRuntime.LIBRARY);
  }

  /**
   * A running JVM that writes its idea of the time (epoch seconds) to ID.now, whole, five times a
   * second: the clock must move while it runs, not only for processes started later.
   */
  public static final class Writer {
    public static void main(String[] args) throws Exception {
      Path tmp = Path.of(args[0] + ".tmp");
      while (true) {
        Files.writeString(tmp, Long.toString(System.currentTimeMillis() / 1000));
        Files.move(
            tmp,
            Path.of(args[0] + ".now"),
            java.nio.file.StandardCopyOption.ATOMIC_MOVE,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Thread.sleep(200);
      }
    }
  }

  private RunningProcess clockWriter(ClockRuntime rt, String id, String service) {
    RunningProcess p =
        rt.start(
            new Launch(
                id,
                service,
                ProcessHandle.current().info().command().orElse("java"),
                List.of(
                    "-Xmx32m",
                    "-XX:+UseSerialGC",
                    "-cp",
                    System.getProperty("java.class.path"),
                    Writer.class.getName(),
                    id),
                Map.of(),
                dir,
                0));
    started.add(p);
    return p;
  }

  private long seen(String id) throws Exception {
    return Long.parseLong(Files.readString(dir.resolve(id + ".now")).trim());
  }

  @Test
  void anOptedInInstance_seesItsWallClockMove_whileItRuns_andBack() throws Exception {
    Assumptions.assumeTrue(Files.isReadable(ClockRuntime.LIBRARY), "libfaketime is not installed");
    ClockRuntime rt = runtime(Set.of("shop"));
    clockWriter(rt, "shop-1", "shop");
    clockWriter(rt, "web-1", "web");
    Path file = ClockRuntime.file(dir.resolve("clock"), "shop-1");
    assertThat(Files.readString(file)).isEqualTo("+0\n");
    assertThat(ClockRuntime.file(dir.resolve("clock"), "web-1")).doesNotExist();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                Files.exists(dir.resolve("shop-1.now")) && Files.exists(dir.resolve("web-1.now")));

    ClockRuntime.write(file, Duration.ofHours(1));
    // libfaketime reads the file again within a second; the shell's next 'date' shows it.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> seen("shop-1") - System.currentTimeMillis() / 1000 > 3590);
    assertThat(Math.abs(seen("web-1") - System.currentTimeMillis() / 1000))
        .as("a service not named keeps the real time")
        .isLessThan(5);

    ClockRuntime.write(file, Duration.ofMinutes(-30));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> System.currentTimeMillis() / 1000 - seen("shop-1") > 1790);
    ClockRuntime.write(file, Duration.ZERO);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Math.abs(seen("shop-1") - System.currentTimeMillis() / 1000) < 5);
  }

  @Test
  void offsetFiles_ofInstancesThatAreGone_areRemovedWithTheOrphans() throws Exception {
    ClockRuntime rt = runtime(Set.of("shop"));
    Files.createDirectories(dir.resolve("clock"));
    ClockRuntime.write(ClockRuntime.file(dir.resolve("clock"), "shop-1"), Duration.ZERO);
    ClockRuntime.write(ClockRuntime.file(dir.resolve("clock"), "shop-2"), Duration.ZERO);
    rt.reapOrphans(Set.of("shop-2"));
    assertThat(dir.resolve("clock").resolve("shop-1")).doesNotExist();
    assertThat(dir.resolve("clock").resolve("shop-2")).exists();
  }
}
