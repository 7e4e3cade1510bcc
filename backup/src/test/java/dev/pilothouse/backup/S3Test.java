package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Random;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real S3 API server: s3proxy on loopback, storing into a directory. */
class S3Test {
  private static S3Proxy proxy;
  private static BlobStoreContext context;
  @TempDir static Path store;
  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    Properties p = new Properties();
    p.setProperty("jclouds.filesystem.basedir", store.toString());
    context =
        ContextBuilder.newBuilder("filesystem")
            .credentials("identity", "credential")
            .overrides(p)
            .build(BlobStoreContext.class);
    context.getBlobStore().createContainerInLocation(null, "backups");
    context.getBlobStore().createContainerInLocation(null, "replica");
    proxy =
        S3Proxy.builder()
            .blobStore(context.getBlobStore())
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "access", "secret-key")
            .build();
    proxy.start();
    long until = System.nanoTime() + 10_000_000_000L;
    while (!AbstractLifeCycle.STARTED.equals(proxy.getState()) && System.nanoTime() < until) {
      Thread.sleep(10);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.stop();
    context.close();
  }

  private static S3Backend bucket(String name, String secret) {
    return new S3Backend(
        "http://127.0.0.1:" + proxy.getPort(),
        "us-east-1",
        name,
        "pilothouse",
        "access",
        secret,
        true);
  }

  @Test
  void backup_verify_restore_and_replicate_through_the_s3_api() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("d"));
    byte[] data = new byte[700_000];
    new Random(4).nextBytes(data);
    Files.write(src.resolve("d/data.bin"), data);
    Files.writeString(src.resolve("note"), "hello s3");
    try (S3Backend s3 = bucket("backups", "secret-key");
        Repository r = TestRepos.init(s3)) {
      Snapshot s = TestRepos.backup(r, src, null);
      assertThat(s3.list(Backend.Kind.DATA)).isNotEmpty();
      assertThat(Checker.check(r, 1, new Random(1)).errors()).isEmpty();
      Path out = tmp.resolve("out");
      Restorer.restore(r, s, out, false, new Restorer.Counters());
      assertThat(TestRepos.describe(out.resolve(src.toString().substring(1))))
          .isEqualTo(TestRepos.describe(src));
      // replicate to a second bucket and to a local directory; both restore
      try (S3Backend replica = bucket("replica", "secret-key")) {
        assertThat(Copier.copy(s3, replica).snapshots()).isEqualTo(1);
        try (Repository rr = TestRepos.open(replica)) {
          Path out2 = tmp.resolve("out2");
          Restorer.restore(rr, rr.snapshot("latest", null), out2, false, new Restorer.Counters());
          assertThat(
                  Files.readAllBytes(
                      out2.resolve(src.toString().substring(1)).resolve("d/data.bin")))
              .isEqualTo(data);
        }
      }
    }
  }

  @Test
  void wrong_credentials_are_an_error_that_names_the_bucket() throws Exception {
    try (S3Backend s3 = bucket("backups", "not-the-secret")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> s3.list(Backend.Kind.SNAPSHOT))
          .hasMessageContaining("s3://backups/pilothouse/");
    }
  }
}
