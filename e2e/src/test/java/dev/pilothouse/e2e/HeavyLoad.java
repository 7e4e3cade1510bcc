package dev.pilothouse.e2e;

import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks an end-to-end class that loads the machine hard (hundreds of requests a second, several
 * JVMs starting) and measures latencies or failed requests: at most one such class runs at a time
 * across the test forks (a file lock in target/), while the others run beside it. Two of them at
 * once on 2 cores failed a run (an autoscaling step at 280 req/s beside the load balancer's kill
 * test: 206 requests timed out).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(HeavyLoad.Lock.class)
@interface HeavyLoad {
  /** Holds the lock from before the class's first test to after its last. */
  final class Lock implements BeforeAllCallback, AfterAllCallback {
    private static final Path FILE = Path.of("target", "e2e-heavy-load.lock");
    private static final ExtensionContext.Namespace NS =
        ExtensionContext.Namespace.create(HeavyLoad.class);

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
      Files.createDirectories(FILE.getParent());
      FileChannel channel =
          FileChannel.open(FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      long t0 = System.nanoTime();
      FileLock lock = channel.lock(); // waits for the class of another fork to finish
      long waited = (System.nanoTime() - t0) / 1_000_000;
      if (waited > 1000) {
        System.out.println(
            context.getDisplayName() + " waited " + waited + " ms for another heavy class");
      }
      context.getStore(NS).put("lock", lock);
      context.getStore(NS).put("channel", channel);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
      FileLock lock = context.getStore(NS).remove("lock", FileLock.class);
      FileChannel channel = context.getStore(NS).remove("channel", FileChannel.class);
      if (lock != null) {
        lock.release();
      }
      if (channel != null) {
        channel.close();
      }
    }
  }
}
