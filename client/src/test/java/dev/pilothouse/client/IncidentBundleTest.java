package dev.pilothouse.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The incident bundle format: sealed under a key, opened only with it, never outside its dir. */
class IncidentBundleTest {
  @TempDir Path dir;

  static byte[] zip(String name, String text) throws Exception {
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(z)) {
      out.putNextEntry(new ZipEntry(name));
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    return z.toByteArray();
  }

  @Test
  void aBundle_opensWithItsKey_intoOwnerOnlyFiles_andNothingElseOpensIt() throws Exception {
    String key = IncidentBundle.newKey();
    assertThat(key).hasSize(43);
    byte[] sealed =
        IncidentBundle.seal(
            IncidentBundle.key(key), zip("instances/a/log-tail.txt", "secret log line"));
    assertThat(new String(sealed, StandardCharsets.ISO_8859_1))
        .startsWith("PHIB1")
        .doesNotContain("secret log line");

    List<Path> files = IncidentBundle.open(sealed, key, dir.resolve("out"));
    assertThat(files).hasSize(1);
    assertThat(Files.readString(files.get(0))).isEqualTo("secret log line");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.get(0))))
        .isEqualTo("rw-------");

    assertThatThrownBy(() -> IncidentBundle.open(sealed, IncidentBundle.newKey(), dir.resolve("x")))
        .hasMessageContaining("does not open with this key");
    byte[] changed = sealed.clone();
    changed[changed.length / 2] ^= 1;
    assertThatThrownBy(() -> IncidentBundle.open(changed, key, dir.resolve("y")))
        .hasMessageContaining("does not open with this key");
    assertThatThrownBy(
            () ->
                IncidentBundle.open(
                    "hello".getBytes(StandardCharsets.US_ASCII), key, dir.resolve("z")))
        .hasMessageContaining("not an incident bundle");
    assertThat(dir.resolve("x")).doesNotExist();
    assertThatThrownBy(() -> IncidentBundle.key("short")).hasMessageContaining("43 characters");
  }

  @Test
  void aBundleNamingAFileOutsideItsDirectory_isRefused() throws Exception {
    String key = IncidentBundle.newKey();
    byte[] sealed = IncidentBundle.seal(IncidentBundle.key(key), zip("../escaped.txt", "x"));
    assertThatThrownBy(() -> IncidentBundle.open(sealed, key, dir.resolve("in")))
        .hasMessageContaining("names a file outside it");
    assertThat(dir.resolve("escaped.txt")).doesNotExist();
  }
}
