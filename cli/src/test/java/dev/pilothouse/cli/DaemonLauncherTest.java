package dev.pilothouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DaemonLauncherTest {
  @Test
  void withoutUserOptions_theDaemonGetsItsDefaults() {
    assertThat(DaemonLauncher.jvmOptions(null))
        .isEqualTo(DaemonLauncher.jvmOptions("  "))
        .contains("-XX:+UseSerialGC", "-Xmx512m", "-XX:+ExitOnOutOfMemoryError");
  }

  @Test
  void userOptionsComeAfterTheDefaults_soTheyWin_andKeepTheRest() {
    List<String> opts = DaemonLauncher.jvmOptions(" -Xmx2g   -XX:TieredStopAtLevel=1 ");
    assertThat(opts).contains("-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED");
    assertThat(opts.subList(opts.size() - 2, opts.size()))
        .containsExactly("-Xmx2g", "-XX:TieredStopAtLevel=1");
    assertThat(opts.indexOf("-Xmx2g")).isGreaterThan(opts.indexOf("-Xmx512m"));
  }

  @Test
  void aCollectorTheUserNames_replacesTheDefaultOne_andTheJvmStarts() throws Exception {
    List<String> opts = DaemonLauncher.jvmOptions("-XX:+UseG1GC -Xmx1g");
    assertThat(opts).doesNotContain("-XX:+UseSerialGC").contains("-XX:+UseG1GC");
    // Two collectors would refuse to start: the JVM itself checks the options.
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(opts);
    cmd.add("-version");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
  }
}
