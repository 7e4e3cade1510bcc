package dev.pilothouse.core.instance;

import java.util.Optional;

/** Where instances' secrets come from when they start (the security module's encrypted store). */
@FunctionalInterface
public interface SecretSource {
  /** The current value of the named secret, or empty when no such secret is set. */
  Optional<String> value(String name);

  /** A source without secrets. */
  static SecretSource none() {
    return name -> Optional.empty();
  }
}
