package dev.pilothouse.spec;

import dev.pilothouse.core.spec.Spec;
import java.util.List;
import java.util.Optional;

/** The outcome of reading a spec file: the spec when it is valid, otherwise every problem found. */
public record ParsedSpec(Optional<Spec> spec, List<SpecError> errors) {
  public ParsedSpec {
    errors = List.copyOf(errors);
    if (spec.isPresent() == !errors.isEmpty()) {
      throw new IllegalArgumentException("a parsed spec has either a spec or errors");
    }
  }

  /** Whether the file is valid. */
  public boolean valid() {
    return errors.isEmpty();
  }

  /** How many services a valid spec declares (0 for an invalid one). */
  public int serviceCount() {
    return spec.map(s -> s.services().size()).orElse(0);
  }
}
