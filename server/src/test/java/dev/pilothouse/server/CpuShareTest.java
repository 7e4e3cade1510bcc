package dev.pilothouse.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's scheduling group, against a proc tree laid out as Linux's (the real one is checked
 * end to end: {@code LoadBalancerTest} reads the daemon's and the load balancer's groups).
 */
class CpuShareTest {
  private static final String UNTOUCHED = "/autogroup-41 nice 0\n";
  private static final long PID = 4242;

  @TempDir Path proc;

  @BeforeEach
  void linuxWithAutogroups() throws Exception {
    Files.createDirectories(proc.resolve("self"));
    Files.createDirectories(proc.resolve("sys/kernel"));
    Files.writeString(proc.resolve("sys/kernel/sched_autogroup_enabled"), "1\n");
    Files.writeString(proc.resolve("self/autogroup"), UNTOUCHED);
    leader(true);
  }

  /** A stat line whose command holds spaces and a parenthesis, as a JVM's may. */
  private void leader(boolean leads) throws Exception {
    Files.writeString(
        proc.resolve("self/stat"),
        "4242 (java (x) y) S 1 4242 " + (leads ? "4242" : "1180") + " 0 -1 4194560 1 0 0 0\n");
  }

  private String group() throws Exception {
    return Files.readString(proc.resolve("self/autogroup"));
  }

  @Test
  void byDefault_theDaemonsGroupGetsNiceTen() throws Exception {
    String said = CpuShare.yieldToDataPlane(Map.of(), proc, PID);
    assertThat(group()).isEqualTo("10");
    assertThat(said).contains("nice 10").contains("PILOTHOUSE_DAEMON_NICE=0");
  }

  @Test
  void theEnvironmentChoosesTheValue_andZeroLeavesTheGroupAlone() throws Exception {
    CpuShare.yieldToDataPlane(Map.of("PILOTHOUSE_DAEMON_NICE", " 3 "), proc, PID);
    assertThat(group()).isEqualTo("3");

    Files.writeString(proc.resolve("self/autogroup"), UNTOUCHED);
    String said = CpuShare.yieldToDataPlane(Map.of("PILOTHOUSE_DAEMON_NICE", "0"), proc, PID);
    assertThat(group()).isEqualTo(UNTOUCHED);
    assertThat(said).contains("left as it is");
  }

  @Test
  void aValueOutsideZeroToNineteen_isNamedAndTheDefaultUsed() throws Exception {
    for (String bad : new String[] {"-5", "20", "low"}) {
      Files.writeString(proc.resolve("self/autogroup"), UNTOUCHED);
      String said = CpuShare.yieldToDataPlane(Map.of("PILOTHOUSE_DAEMON_NICE", bad), proc, PID);
      assertThat(said)
          .as(bad)
          .contains("PILOTHOUSE_DAEMON_NICE='" + bad + "' is not a nice value from 0 to 19");
      assertThat(group()).as(bad).isEqualTo("10");
    }
  }

  @Test
  void aDaemonInItsCallersSession_leavesThatSessionsGroupAlone() throws Exception {
    leader(false);
    String said = CpuShare.yieldToDataPlane(Map.of(), proc, PID);
    assertThat(group()).isEqualTo(UNTOUCHED);
    assertThat(said).contains("shares its caller's session");
  }

  @Test
  void withAutogroupsOffOrAbsent_nothingIsWritten() throws Exception {
    Files.writeString(proc.resolve("sys/kernel/sched_autogroup_enabled"), "0\n");
    assertThat(CpuShare.yieldToDataPlane(Map.of(), proc, PID)).contains("autogroups are off");
    assertThat(group()).isEqualTo(UNTOUCHED);

    Files.delete(proc.resolve("self/autogroup"));
    assertThat(CpuShare.yieldToDataPlane(Map.of(), proc, PID)).contains("no scheduler autogroups");
    assertThat(proc.resolve("self/autogroup")).doesNotExist();
  }
}
