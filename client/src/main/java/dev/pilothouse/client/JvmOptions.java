package dev.pilothouse.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** JVM options the launcher, the daemon's launcher and the tests share. */
public final class JvmOptions {
  private JvmOptions() {}

  /**
   * JVM options for a class-data archive of the classes a JVM of this kind loads, made by its first
   * run and reused by later ones (JDK 19+; the daemon starts about a second sooner). The archive is
   * named after the jars' names, sizes and times, so a rebuilt jar gets a new one. None when the
   * class path is not one directory of jars that may be written to.
   */
  public static List<String> classDataArchive(String classPath, String kind) {
    if (Runtime.version().feature() < 19 || classPath.isEmpty()) {
      return List.of();
    }
    // "lib/*", or what the JVM made of it: every jar of lib, separated by ':'
    Path lib = null;
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      Path dir =
          entry.endsWith("/*")
              ? Path.of(entry.substring(0, entry.length() - 2))
              : Path.of(entry).toAbsolutePath().getParent();
      if (dir == null || (lib != null && !lib.equals(dir.toAbsolutePath().normalize()))) {
        return List.of();
      }
      lib = dir.toAbsolutePath().normalize();
    }
    if (!Files.isWritable(lib)) {
      return List.of();
    }
    long h = 1125899906842597L;
    try (var jars = Files.list(lib)) {
      for (Path j : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
        h = 31 * h + j.getFileName().toString().hashCode();
        h = 31 * h + Files.size(j);
        h = 31 * h + Files.getLastModifiedTime(j).toMillis();
      }
    } catch (IOException e) {
      return List.of();
    }
    Path jsa = lib.resolve("." + kind + "-" + Long.toHexString(h) + ".jsa");
    List<String> out =
        new java.util.ArrayList<>(
            List.of(
                "-XX:+AutoCreateSharedArchive",
                "-XX:SharedArchiveFile=" + jsa,
                "-Xlog:cds=off",
                "-Xlog:cds+dynamic=off"));
    if (Runtime.version().feature() >= 25) {
      out.add("-Xlog:aot=off"); // where JDK 25 moved some of the archive's messages
    }
    return out;
  }
}
