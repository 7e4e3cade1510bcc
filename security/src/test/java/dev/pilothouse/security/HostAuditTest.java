package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host audit against crafted fixture trees: a hardened one (every rule passes: no false
 * positives) and a weak one (every rule fails: no misses), then --fix on the weak one.
 */
class HostAuditTest {
  @TempDir Path tmp;
  final Instant now = Instant.parse("2026-11-30T10:00:00Z");

  static void write(Path root, String path, String text, String mode) throws Exception {
    Path f = root.resolve(path.substring(1));
    Files.createDirectories(f.getParent());
    Files.writeString(f, text);
    Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString(mode));
  }

  static final Map<String, String> GOOD_SYSCTL =
      Map.ofEntries(
          Map.entry("kernel.randomize_va_space", "2"),
          Map.entry("kernel.yama.ptrace_scope", "1"),
          Map.entry("fs.suid_dumpable", "0"),
          Map.entry("kernel.kptr_restrict", "2"),
          Map.entry("kernel.dmesg_restrict", "1"),
          Map.entry("net.ipv4.ip_forward", "0"),
          Map.entry("net.ipv4.conf.all.send_redirects", "0"),
          Map.entry("net.ipv4.conf.all.accept_redirects", "0"),
          Map.entry("net.ipv4.conf.all.accept_source_route", "0"),
          Map.entry("net.ipv4.conf.all.rp_filter", "1"),
          Map.entry("net.ipv4.tcp_syncookies", "1"),
          Map.entry("net.ipv4.conf.all.log_martians", "1"));

  static String dpkg(String... packages) {
    StringBuilder b = new StringBuilder();
    for (String p : packages) {
      b.append("Package: ").append(p).append("\nStatus: install ok installed\nVersion: 1.0\n\n");
    }
    b.append("Package: telnet\nStatus: deinstall ok config-files\n\n"); // removed: not installed
    return b.toString();
  }

  Path good() throws Exception {
    Path r = tmp.resolve("good");
    GOOD_SYSCTL.forEach(
        (k, v) -> {
          try {
            write(r, "/proc/sys/" + k.replace('.', '/'), v + "\n", "rw-r--r--");
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
    write(
        r,
        "/proc/mounts",
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
            + "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec 0 0\n"
            + "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0\n"
            + "/dev/sda2 /home ext4 rw,nodev 0 0\n"
            + "/dev/sda3 /var ext4 rw 0 0\n",
        "r--r--r--");
    write(r, "/boot/grub/grub.cfg", "menuentry\n", "rw-------");
    write(
        r,
        "/etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nMaxAuthTries 3\n"
            + "X11Forwarding no\nMatch User backup\n  PermitRootLogin yes\n",
        "rw-------");
    write(r, "/etc/ssh/sshd_config.d/10-site.conf", "PermitEmptyPasswords no\n", "rw-------");
    write(
        r,
        "/etc/login.defs",
        "# comment PASS_MAX_DAYS 99999\nPASS_MAX_DAYS 365\nPASS_WARN_AGE 7\nENCRYPT_METHOD YESCRYPT\n",
        "rw-r--r--");
    write(r, "/etc/pam.d/common-auth", "auth required pam_faillock.so preauth\n", "rw-r--r--");
    write(
        r,
        "/etc/pam.d/common-password",
        "password requisite pam_pwquality.so retry=3\n",
        "rw-r--r--");
    write(
        r,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
        "rw-r--r--");
    write(
        r,
        "/etc/shadow",
        "root:$y$j9T$abc:19000:0:99999:7:::\ndaemon:*:19000::::::\n",
        "rw-r-----");
    write(r, "/etc/group", "root:x:0:\ndaemon:x:1:\n", "rw-r--r--");
    write(r, "/etc/gshadow", "root:*::\n", "rw-r-----");
    write(r, "/var/lib/dpkg/status", dpkg("chrony", "auditd", "systemd"), "rw-r--r--");
    write(r, "/etc/systemd/journald.conf", "[Journal]\nStorage=persistent\n", "rw-r--r--");
    write(r, "/proc/1/comm", "systemd\n", "r--r--r--");
    write(r, "/proc/212/comm", "systemd-journal\n", "r--r--r--");
    write(r, "/etc/crontab", "# m h dom mon dow user command\n", "rw-------");
    Files.setPosixFilePermissions(
        Files.createDirectories(r.resolve("etc/cron.d")),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    write(
        r,
        "/etc/apt/sources.list",
        "deb http://deb.debian.org/debian bookworm main\n",
        "rw-r--r--");
    Files.createDirectories(r.resolve("etc/systemd/system/multi-user.target.wants"));
    return r;
  }

  HostAudit.Context goodContext() throws Exception {
    Path state = Files.createDirectories(tmp.resolve("state"));
    Files.setPosixFilePermissions(
        state, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    write(state, "/secrets/master.key", "k".repeat(32), "rw-------");
    return new HostAudit.Context(
        state,
        "https://127.0.0.1:9460",
        true,
        List.of(token("grafana", now.minusSeconds(86400 * 200), now.plusSeconds(86400 * 30))));
  }

  static ApiToken token(String name, Instant created, Instant expires) {
    return new ApiToken(
        name, Role.VIEWER, List.of(), List.of(), created, expires, null, "0".repeat(64));
  }

  Path weak() throws Exception {
    Path r = tmp.resolve("weak");
    if (Files.exists(r)) {
      return r;
    }
    Map<String, String> bad =
        Map.ofEntries(
            Map.entry("kernel.randomize_va_space", "0"),
            Map.entry("kernel.yama.ptrace_scope", "0"),
            Map.entry("fs.suid_dumpable", "2"),
            Map.entry("kernel.kptr_restrict", "0"),
            Map.entry("kernel.dmesg_restrict", "0"),
            Map.entry("net.ipv4.ip_forward", "1"),
            Map.entry("net.ipv4.conf.all.send_redirects", "1"),
            Map.entry("net.ipv4.conf.all.accept_redirects", "1"),
            Map.entry("net.ipv4.conf.all.accept_source_route", "1"),
            Map.entry("net.ipv4.conf.all.rp_filter", "0"),
            Map.entry("net.ipv4.tcp_syncookies", "0"),
            Map.entry("net.ipv4.conf.all.log_martians", "0"));
    for (var e : bad.entrySet()) {
      write(r, "/proc/sys/" + e.getKey().replace('.', '/'), e.getValue() + "\n", "rw-r--r--");
    }
    write(
        r,
        "/proc/mounts",
        "/dev/sda1 / ext4 rw,relatime 0 0\ntmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n",
        "r--r--r--");
    write(r, "/boot/grub/grub.cfg", "menuentry\n", "rw-r--r--");
    // the drop-in comes first (Include at the top) and wins over the main file's 'no'
    write(
        r,
        "/etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nMaxAuthTries 6\n"
            + "HostbasedAuthentication yes\nIgnoreRhosts no\nX11Forwarding yes\n",
        "rw-r--r--");
    write(
        r,
        "/etc/ssh/sshd_config.d/50-cloud.conf",
        "PermitRootLogin yes\nPermitEmptyPasswords yes\n",
        "rw-r--r--");
    write(
        r,
        "/etc/login.defs",
        "PASS_MAX_DAYS 99999\nPASS_WARN_AGE 0\nENCRYPT_METHOD MD5\n",
        "rw-r--r--");
    write(
        r, "/etc/pam.d/common-auth", "auth [success=1 default=ignore] pam_unix.so\n", "rw-r--r--");
    write(r, "/etc/pam.d/common-password", "password required pam_unix.so\n", "rw-r--r--");
    write(
        r,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n"
            + "app:x:1000:1000::/home/app:/bin/sh\ncopy:x:1000:1000::/home/copy:/bin/sh\n"
            + "lost:x:1001:4242::/home/lost:/bin/sh\n",
        "rw-rw-rw-");
    write(r, "/etc/shadow", "root:$1$old:19000::::::\napp::19000::::::\n", "rw-r--r--");
    write(r, "/etc/group", "root:x:0:\napp:x:1000:\n", "rw-rw-r--");
    write(r, "/etc/gshadow", "root:*::\n", "rw-r--r--");
    write(r, "/var/lib/dpkg/status", dpkg("telnet", "telnetd", "bash"), "rw-r--r--");
    write(r, "/etc/systemd/journald.conf", "[Journal]\nStorage=volatile\n", "rw-r--r--");
    write(r, "/proc/1/comm", "bash\n", "r--r--r--");
    write(r, "/etc/crontab", "# m h dom mon dow user command\n", "rw-r--r--");
    Files.setPosixFilePermissions(
        Files.createDirectories(r.resolve("etc/cron.d")),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    write(
        r,
        "/etc/apt/sources.list.d/extra.list",
        "deb [trusted=yes] http://example.com/debian bookworm main\n",
        "rw-r--r--");
    Path wants = Files.createDirectories(r.resolve("etc/systemd/system/multi-user.target.wants"));
    Files.createSymbolicLink(
        wants.resolve("nfs-server.service"), Path.of("/lib/systemd/system/nfs-server.service"));
    Files.createSymbolicLink(
        wants.resolve("avahi-daemon.service"), Path.of("/lib/systemd/system/avahi-daemon.service"));
    return r;
  }

  HostAudit.Context weakContext() throws Exception {
    Path state = Files.createDirectories(tmp.resolve("weak-state"));
    Files.setPosixFilePermissions(
        state, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    write(state, "/secrets/master.key", "k".repeat(32), "rw-r--r--");
    return new HostAudit.Context(
        state,
        "http://0.0.0.0:9460",
        false,
        List.of(token("ci", now.minusSeconds(86400 * 200), null)));
  }

  static Map<String, String> statuses(HostAudit.Report r) {
    return r.findings().stream()
        .collect(
            Collectors.toMap(
                HostAudit.Finding::id,
                HostAudit.Finding::status,
                (a, b) -> a,
                java.util.TreeMap::new));
  }

  @Test
  void aHardenedTree_passesEveryRule_andAWeakOne_failsEveryRule() throws Exception {
    List<AuditRules.Rule> rules = AuditRules.builtin();
    assertThat(rules).hasSizeGreaterThanOrEqualTo(50);
    assertThat(rules.stream().map(AuditRules.Rule::area).distinct())
        .contains(
            "filesystems",
            "boot",
            "kernel",
            "network",
            "services",
            "ssh",
            "accounts",
            "permissions",
            "logging",
            "cron",
            "packages",
            "pilothouse");

    HostAudit.Report good =
        new HostAudit(rules, good(), () -> now).run("cis-debian12-l2", goodContext());
    assertThat(good.findings()).hasSize(rules.size());
    assertThat(good.findings())
        .as("no false positives")
        .allSatisfy(f -> assertThat(f.status()).as(f.id() + ": " + f.evidence()).isEqualTo("pass"));
    assertThat(good.score()).isEqualTo(100);

    HostAudit.Report weak =
        new HostAudit(rules, weak(), () -> now).run("cis-debian12-l2", weakContext());
    assertThat(weak.findings())
        .as("no misses")
        .allSatisfy(f -> assertThat(f.status()).as(f.id() + ": " + f.evidence()).isEqualTo("fail"));
    assertThat(weak.score()).isZero();
    Map<String, HostAudit.Finding> by =
        weak.findings().stream().collect(Collectors.toMap(HostAudit.Finding::id, f -> f));
    assertThat(by.get("PH-SSH-001").evidence())
        .isEqualTo("sshd: PermitRootLogin yes; expected one of no,prohibit-password");
    assertThat(by.get("PH-USER-001").evidence()).isEqualTo("UID 0 besides root: toor");
    assertThat(by.get("PH-USER-002").evidence()).isEqualTo("empty password: app");
    assertThat(by.get("PH-USER-003").evidence()).contains("1000 (app, copy)");
    assertThat(by.get("PH-PERM-001").evidence())
        .isEqualTo("/etc/passwd is 0666 uid 0; at most 0644 is allowed");
    assertThat(by.get("PH-PKG-001").evidence()).startsWith("/etc/apt/sources.list.d/extra.list:1:");
    assertThat(by.get("PH-FS-005").evidence()).endsWith("missing noexec");
    assertThat(by.get("PH-PILOT-004").evidence()).contains("ci (made");
    assertThat(by.get("PH-KRNL-001").cis()).isEqualTo("1.5.1");
    assertThat(by.get("PH-KRNL-001").fix()).contains("kernel.randomize_va_space = 2");

    // level 1 leaves out level 2 rules
    HostAudit.Report l1 =
        new HostAudit(rules, weak(), () -> now).run("cis-debian12-l1", weakContext());
    assertThat(l1.findings()).noneMatch(f -> f.level() == 2).isNotEmpty();
    assertThatThrownBy(
            () -> new HostAudit(rules, weak(), () -> now).run("pci", HostAudit.Context.none()))
        .hasMessageContaining("known: cis-debian12-l1, cis-debian12-l2");
  }

  @Test
  void anEmptyTree_skipsWhatIsNotThere_insteadOfFailing() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    HostAudit.Report r =
        new HostAudit(AuditRules.builtin(), empty, () -> now)
            .run("cis-debian12-l2", HostAudit.Context.none());
    Map<String, String> s = statuses(r);
    assertThat(s.get("PH-SSH-001")).isEqualTo("skip");
    assertThat(s.get("PH-KRNL-001")).isEqualTo("skip");
    assertThat(s.get("PH-PILOT-001")).isEqualTo("skip");
    assertThat(r.counts().get("error")).isZero();
  }

  @Test
  void fix_changesWhatIsSafeToAutomate_withBackups_thenChecksAgain_andDryRunChangesNothing()
      throws Exception {
    Path weak = weak();
    HostAudit audit = new HostAudit(AuditRules.builtin(), weak, () -> now);
    Path backups = tmp.resolve("backups");
    String sshdBefore = Files.readString(weak.resolve("etc/ssh/sshd_config"));

    HostAudit.FixReport dry = audit.fix("cis-debian12-l2", weakContext(), true, backups);
    assertThat(dry.changes()).isNotEmpty();
    assertThat(Files.readString(weak.resolve("etc/ssh/sshd_config"))).isEqualTo(sshdBefore);
    assertThat(Files.readString(weak.resolve("proc/sys/kernel/randomize_va_space")).strip())
        .isEqualTo("0");
    assertThat(backups).doesNotExist();

    HostAudit.FixReport fix = audit.fix("cis-debian12-l2", weakContext(), false, backups);
    Map<String, String> after = statuses(fix.after());
    for (AuditRules.Rule r : AuditRules.builtin()) {
      if (!r.fix().isEmpty()) {
        assertThat(after.get(r.id())).as(r.id() + " is fixed").isEqualTo("pass");
        assertThat(fix.nowPassing()).contains(r.id());
      } else {
        assertThat(after.get(r.id())).as(r.id() + " needs a person").isEqualTo("fail");
      }
    }
    assertThat(Files.readString(weak.resolve("etc/ssh/sshd_config")))
        .startsWith("# set by pilothouse audit host --fix\nX11Forwarding no")
        .contains("# PermitRootLogin no");
    assertThat(Files.readString(backups.resolve("etc/ssh/sshd_config"))).isEqualTo(sshdBefore);
    assertThat(Files.readString(weak.resolve("etc/sysctl.d/60-pilothouse-hardening.conf")))
        .contains("kernel.randomize_va_space = 2");
    assertThat(Files.readString(weak.resolve("etc/login.defs"))).contains("# PASS_MAX_DAYS 99999");
    assertThat(Files.readString(backups.resolve("etc/login.defs")))
        .startsWith("PASS_MAX_DAYS 99999");
    assertThat(fix.changes())
        .anySatisfy(c -> assertThat(c.action()).isEqualTo("chmod 0666 -> 0644"));
    assertThat(fix.after().score()).isGreaterThan(fix.before().score());
  }

  @Test
  void ruleFiles_withProblems_areRefusedNamingFileAndLine() {
    String text =
        "rules:\n"
            + "- id: X-1\n  title: t\n  area: a\n  rationale: r\n  level: 3\n"
            + "  check: {type: file-mode, path: /etc/x}\n  manual: m\n"
            + "- id: X-2\n  title: t\n  area: a\n  rationale: r\n  level: 1\n"
            + "  check: {type: magic}\n";
    assertThatThrownBy(() -> AuditRules.read("site.yaml", text))
        .isInstanceOfSatisfying(
            AuditRules.RuleFileException.class,
            e ->
                assertThat(e.problems)
                    .containsExactly(
                        "site.yaml:2: rule 'X-1': 'level' must be 1 or 2",
                        "site.yaml:2: rule 'X-1': a file-mode check needs 'mode'",
                        "site.yaml:9: rule 'X-2': unknown check type 'magic'; known: accounts,"
                            + " config, contains, file-mode, mount, package, pilothouse, process,"
                            + " service, sshd, sysctl",
                        "site.yaml:9: rule 'X-2': give a 'fix' or a 'manual' how-to"));
    assertThatThrownBy(() -> AuditRules.read("bad.yaml", "rules: [\n"))
        .hasMessageStartingWith("bad.yaml:");
  }
}
