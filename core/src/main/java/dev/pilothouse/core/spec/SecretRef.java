package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

/**
 * A variable whose value is a stored secret: {@code {secret: NAME}} in a service's env.
 *
 * @param secret the secret's name
 * @param file true: the variable holds the path of an owner-only file with the value (for programs
 *     that read {@code *_FILE} variables); false: the variable holds the value
 */
public record SecretRef(String secret, boolean file) {
  public SecretRef {
    requireNonNull(secret, "secret");
  }

  @Override
  public String toString() {
    return file ? "{secret: " + secret + ", file: true}" : "{secret: " + secret + "}";
  }
}
