package dev.pilothouse.tsdb.scrape;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The host's metrics, read from /proc and the file systems, in node_exporter's names (so its
 * dashboards and rules work): CPU, memory, load, disk, file systems and network; plus CPU time and
 * resident memory of each instance process.
 */
public final class HostCollector {
  /** A process to report: its service, instance id and pid. */
  public record Proc(String service, String instance, long pid, String version) {
    /** A process whose version is unknown (no version label). */
    public Proc(String service, String instance, long pid) {
      this(service, instance, pid, "");
    }
  }

  private static final long CLK_TCK = ProcessUsage.CLK_TCK;
  private volatile InstanceUsage usage;

  /** Counts processes run on an instance's behalf (chaos stressors) as the instance's. */
  public void countHelpers(InstanceUsage u) {
    this.usage = u;
  }

  private static final Set<String> PSEUDO_FS =
      Set.of(
          "proc",
          "sysfs",
          "tmpfs",
          "devtmpfs",
          "devpts",
          "cgroup",
          "cgroup2",
          "overlay",
          "mqueue",
          "securityfs",
          "debugfs",
          "tracefs",
          "pstore",
          "bpf",
          "autofs",
          "hugetlbfs",
          "fusectl",
          "configfs",
          "binfmt_misc",
          "nsfs",
          "rpc_pipefs",
          "squashfs");

  private final Path proc;
  private final Supplier<List<Proc>> processes;

  public HostCollector(Path proc, Supplier<List<Proc>> processes) {
    this.proc = proc;
    this.usage = InstanceUsage.alone(proc);
    this.processes = processes;
  }

  /** The current values as Prometheus text. */
  public String text() {
    StringBuilder b = new StringBuilder();
    cpu(b);
    memory(b);
    load(b);
    disks(b);
    filesystems(b);
    network(b);
    processes(b);
    return b.toString();
  }

  private List<String> lines(String file) {
    try {
      return Files.readAllLines(proc.resolve(file));
    } catch (IOException e) {
      return List.of();
    }
  }

  private void cpu(StringBuilder b) {
    String[] modes = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
    b.append("# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n");
    b.append("# TYPE node_cpu_seconds_total counter\n");
    for (String line : lines("stat")) {
      if (line.startsWith("cpu") && line.length() > 3 && Character.isDigit(line.charAt(3))) {
        String[] f = line.trim().split("\\s+");
        String cpu = f[0].substring(3);
        for (int i = 0; i < modes.length && i + 1 < f.length; i++) {
          b.append("node_cpu_seconds_total{cpu=\"")
              .append(cpu)
              .append("\",mode=\"")
              .append(modes[i])
              .append("\"} ")
              .append(num(Long.parseLong(f[i + 1]) / (double) CLK_TCK))
              .append('\n');
        }
      }
    }
  }

  private void memory(StringBuilder b) {
    for (String line : lines("meminfo")) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).replace('(', '_').replace(")", "");
      String[] f = line.substring(colon + 1).trim().split("\\s+");
      try {
        long v = Long.parseLong(f[0]);
        boolean kb = f.length > 1 && f[1].equals("kB");
        String name = "node_memory_" + key + (kb ? "_bytes" : "");
        b.append("# TYPE ").append(name).append(" gauge\n");
        b.append(name).append(' ').append(kb ? v * 1024 : v).append('\n');
      } catch (NumberFormatException e) {
        // not a number: skipped
      }
    }
  }

  private void load(StringBuilder b) {
    List<String> l = lines("loadavg");
    if (l.isEmpty()) {
      return;
    }
    String[] f = l.get(0).split("\\s+");
    b.append("# TYPE node_load1 gauge\nnode_load1 ").append(f[0]).append('\n');
    b.append("# TYPE node_load5 gauge\nnode_load5 ").append(f[1]).append('\n');
    b.append("# TYPE node_load15 gauge\nnode_load15 ").append(f[2]).append('\n');
  }

  private void disks(StringBuilder b) {
    b.append("# TYPE node_disk_read_bytes_total counter\n");
    b.append("# TYPE node_disk_written_bytes_total counter\n");
    b.append("# TYPE node_disk_io_time_seconds_total counter\n");
    for (String line : lines("diskstats")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 14) {
        continue;
      }
      String dev = f[2];
      if (dev.startsWith("loop") || dev.startsWith("ram")) {
        continue;
      }
      String l = "{device=\"" + dev + "\"} ";
      b.append("node_disk_read_bytes_total")
          .append(l)
          .append(Long.parseLong(f[5]) * 512)
          .append('\n');
      b.append("node_disk_written_bytes_total")
          .append(l)
          .append(Long.parseLong(f[9]) * 512)
          .append('\n');
      b.append("node_disk_io_time_seconds_total")
          .append(l)
          .append(num(Long.parseLong(f[12]) / 1000.0))
          .append('\n');
    }
  }

  private void filesystems(StringBuilder b) {
    b.append("# TYPE node_filesystem_size_bytes gauge\n");
    b.append("# TYPE node_filesystem_avail_bytes gauge\n");
    b.append("# TYPE node_filesystem_free_bytes gauge\n");
    Set<String> seen = new HashSet<>();
    for (String line : lines("mounts")) {
      String[] f = line.split("\\s+");
      if (f.length < 3 || PSEUDO_FS.contains(f[2]) || !seen.add(f[1])) {
        continue;
      }
      try {
        FileStore fs = Files.getFileStore(Path.of(f[1]));
        String l =
            "{device=\""
                + esc(f[0])
                + "\",fstype=\""
                + esc(f[2])
                + "\",mountpoint=\""
                + esc(f[1])
                + "\"} ";
        b.append("node_filesystem_size_bytes").append(l).append(fs.getTotalSpace()).append('\n');
        b.append("node_filesystem_avail_bytes").append(l).append(fs.getUsableSpace()).append('\n');
        b.append("node_filesystem_free_bytes")
            .append(l)
            .append(fs.getUnallocatedSpace())
            .append('\n');
      } catch (IOException | RuntimeException e) {
        // an unreadable mount is skipped
      }
    }
  }

  private void network(StringBuilder b) {
    b.append("# TYPE node_network_receive_bytes_total counter\n");
    b.append("# TYPE node_network_transmit_bytes_total counter\n");
    b.append("# TYPE node_network_receive_errs_total counter\n");
    b.append("# TYPE node_network_transmit_errs_total counter\n");
    for (String line : lines("net/dev")) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String dev = line.substring(0, colon).trim();
      String[] f = line.substring(colon + 1).trim().split("\\s+");
      if (f.length < 16) {
        continue;
      }
      String l = "{device=\"" + esc(dev) + "\"} ";
      b.append("node_network_receive_bytes_total").append(l).append(f[0]).append('\n');
      b.append("node_network_receive_errs_total").append(l).append(f[2]).append('\n');
      b.append("node_network_transmit_bytes_total").append(l).append(f[8]).append('\n');
      b.append("node_network_transmit_errs_total").append(l).append(f[10]).append('\n');
    }
  }

  private void processes(StringBuilder b) {
    b.append("# HELP pilothouse_instance_cpu_seconds_total CPU time of an instance's process.\n");
    b.append("# TYPE pilothouse_instance_cpu_seconds_total counter\n");
    b.append(
        "# HELP pilothouse_instance_resident_memory_bytes Resident memory of an instance's process.\n");
    b.append("# TYPE pilothouse_instance_resident_memory_bytes gauge\n");
    for (Proc p : processes.get()) {
      Optional<ProcessUsage> u = usage.read(p.instance(), p.pid());
      if (u.isEmpty()) {
        continue;
      }
      String l =
          "{service=\""
              + esc(p.service())
              + "\",instance_id=\""
              + esc(p.instance())
              + (p.version() == null || p.version().isEmpty()
                  ? ""
                  : "\",version=\"" + esc(p.version()))
              + "\"} ";
      b.append("pilothouse_instance_cpu_seconds_total")
          .append(l)
          .append(num(u.get().cpuSeconds()))
          .append('\n');
      b.append("pilothouse_instance_resident_memory_bytes")
          .append(l)
          .append(u.get().residentBytes())
          .append('\n');
    }
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String esc(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
