package dev.pilothouse.spec;

import dev.pilothouse.core.spec.Spec;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of reading a spec file: the spec when it is valid, otherwise every problem found.
 *
 * @param warnings what is valid but probably a mistake (a value that looks like a password, written
 *     in plain text): shown by validate and apply, never a reason to refuse
 */
public record ParsedSpec(Optional<Spec> spec, List<SpecError> errors, List<SpecError> warnings) {
  /** An outcome without warnings. */
  public ParsedSpec(Optional<Spec> spec, List<SpecError> errors) {
    this(spec, errors, List.of());
  }

  public ParsedSpec {
    errors = List.copyOf(errors);
    warnings = List.copyOf(warnings);
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
