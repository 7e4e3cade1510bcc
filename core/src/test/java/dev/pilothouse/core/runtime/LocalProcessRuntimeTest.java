package dev.pilothouse.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.core.instance.Launch;
import dev.pilothouse.core.instance.LaunchException;
import dev.pilothouse.core.instance.RunningProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local runtime against real processes. */
class LocalProcessRuntimeTest {
  @TempDir Path dir;
  final List<RunningProcess> started = new ArrayList<>();
  LocalProcessRuntime runtime;
  LogFiles logs;

  LocalProcessRuntime runtime() {
    logs = new LogFiles(dir.resolve("logs"), 4096, 5, InstantSource.system());
    return LocalProcessRuntime.create(dir, logs);
  }

  RunningProcess start(String id, String script) {
    if (runtime == null) {
      runtime = runtime();
    }
    RunningProcess p =
        runtime.start(
            new Launch(id, "svc", "sh", List.of("-c", script), Map.of("GREETING", "hi"), dir, 0));
    started.add(p);
    return p;
  }

  @AfterEach
  void killAll() {
    for (RunningProcess p : started) {
      runtime.signal(p, "KILL");
    }
  }

  @Test
  void startsInOwnProcessGroup_withEnvAndLogFile() throws IOException {
    RunningProcess p = start("svc-a", "echo $GREETING $PILOTHOUSE_INSTANCE_ID; exec sleep 30");
    assertThat(ProcStat.processGroup(p.pid())).contains(p.pid());
    Path log = logs.fileFor("svc", "svc-a");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Files.exists(log) && Files.readString(log).contains("hi svc-a"));
    assertThat(p.alive()).isTrue();
  }

  @Test
  void instancesGetACleanEnvironment_plusWhatTheServiceInherits() throws IOException {
    // A variable of this JVM's environment that is not in the clean base (mvn and ./test set some).
    String name =
        System.getenv().keySet().stream()
            .filter(
                k ->
                    !LocalProcessRuntime.BASE_ENV.contains(k)
                        && !k.startsWith("LC_")
                        && k.matches("[A-Za-z_][A-Za-z0-9_]*"))
            .sorted()
            .findFirst()
            .orElseThrow();
    runtime = runtime();
    String script = "echo \"seen=${" + name + ":-unset} path=${PATH:+set}\"; exec sleep 30";
    RunningProcess plain =
        runtime.start(new Launch("svc-e1", "svc", "sh", List.of("-c", script), Map.of(), dir, 0));
    started.add(plain);
    RunningProcess inherits =
        runtime.start(
            new Launch(
                "svc-e2", "svc", "sh", List.of("-c", script), Map.of(), dir, 0, List.of(name)));
    started.add(inherits);
    Path a = logs.fileFor("svc", "svc-e1");
    Path b = logs.fileFor("svc", "svc-e2");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Files.exists(a) && Files.exists(b) && Files.readString(b).contains("seen="));
    assertThat(Files.readString(a)).contains("seen=unset path=set");
    assertThat(Files.readString(b)).doesNotContain("seen=unset");
    assertThat(
            LocalProcessRuntime.cleanEnvironment(
                Map.of("PATH", "/bin", "SOME_SECRET", "x", "LC_ALL", "C", "TZ", "UTC"), List.of()))
        .containsOnlyKeys("PATH", "LC_ALL", "TZ");
    assertThat(LocalProcessRuntime.cleanEnvironment(Map.of("SOME_SECRET", "x"), List.of("*")))
        .containsEntry("SOME_SECRET", "x");
  }

  @Test
  void signalReachesTheWholeGroup_includingChildren() throws IOException {
    RunningProcess p = start("svc-b", "sleep 30 & echo child $!; wait");
    Path log = logs.fileFor("svc", "svc-b");
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.readString(log).contains("child "));
    long child = Long.parseLong(Files.readString(log).replaceAll("(?s).*child (\\d+).*", "$1"));
    assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive)).contains(true);
    runtime.signal(p, "TERM");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !p.alive() && ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
    assertThat(p.exitCode()).isPresent();
  }

  @Test
  void adopt_matchesPidAndStartTime_andRejectsAnotherProcess() {
    RunningProcess p = start("svc-c", "exec sleep 30");
    LocalProcessRuntime second = runtime(); // as after a daemon restart
    assertThat(second.adopt("svc-c", p.pid(), p.startTicks())).isPresent();
    assertThat(second.adopt("svc-c", p.pid(), p.startTicks() + 1)).as("pid reused").isEmpty();
    assertThat(second.adopt("svc-other", p.pid(), p.startTicks()))
        .as("not that instance")
        .isEmpty();
    RunningProcess adopted = second.adopt("svc-c", p.pid(), p.startTicks()).orElseThrow();
    second.signal(adopted, "KILL");
    await().atMost(Duration.ofSeconds(5)).until(() -> !adopted.alive());
  }

  @Test
  void reapOrphans_killsOwnUnknownProcesses_only() {
    RunningProcess keep = start("svc-keep", "exec sleep 30");
    RunningProcess orphan = start("svc-orphan", "exec sleep 30");
    // A process seen between fork and exec still carries the JVM's environment, not yet the
    // instance's: reaping is retried until the orphan has become recognisable, as it is in life
    // (an orphan is found at a daemon's start, long after it was started).
    Set<Long> killed = new java.util.HashSet<>();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              killed.addAll(runtime.reapOrphans(Set.of("svc-keep")));
              return killed.contains(orphan.pid());
            });
    assertThat(killed).doesNotContain(keep.pid());
    await().atMost(Duration.ofSeconds(5)).until(() -> !orphan.alive());
    assertThat(keep.alive()).isTrue();
  }

  @Test
  void missingCommand_failsWithClearMessage() {
    runtime = runtime();
    assertThatThrownBy(
            () ->
                runtime.start(
                    new Launch("x", "svc", "no-such-binary-xyz", List.of(), Map.of(), dir, 0)))
        .isInstanceOf(LaunchException.class)
        .hasMessageContaining("'no-such-binary-xyz' was not found in PATH");
    assertThatThrownBy(
            () -> runtime.start(new Launch("x", "svc", "./nope", List.of(), Map.of(), dir, 0)))
        .hasMessageContaining("does not exist or is not executable");
    assertThatThrownBy(
            () ->
                runtime.start(
                    new Launch("x", "svc", "sh", List.of(), Map.of(), dir.resolve("missing"), 0)))
        .hasMessageContaining("working directory");
  }
}
