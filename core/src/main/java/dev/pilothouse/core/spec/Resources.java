package dev.pilothouse.core.spec;

/**
 * Declared resources of one instance; used for placement, scaling and cost.
 *
 * @param cpu cores, 0 when undeclared
 * @param memoryBytes bytes, 0 when undeclared
 */
public record Resources(double cpu, long memoryBytes) {

  public Resources {
    if (cpu < 0 || memoryBytes < 0) {
      throw new IllegalArgumentException("resources must not be negative");
    }
  }

  /** No declared resources. */
  public static Resources none() {
    return new Resources(0, 0);
  }
}
