package dev.pilothouse.core.instance;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Optional;

/** Instance logs as the runtime keeps them: local log files, or the pod log API. */
public interface InstanceLogs {
  /**
   * Writes a service's log lines since since, whole lines, each prefixed with {@code [instance] };
   * with follow, keeps writing new lines until the client goes away (a failed write ends it).
   */
  void stream(
      String service, Optional<String> instance, Instant since, boolean follow, OutputStream out)
      throws IOException;

  /**
   * Whether the instance has logs here: it runs, or it ran and its log is still kept (a request for
   * the logs of an id that has none is answered with "no such instance", not with nothing).
   */
  boolean has(String service, String instance) throws IOException;
}
