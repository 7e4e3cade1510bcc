package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The desired state a user declares: a set of named services. */
public record Spec(List<ServiceSpec> services) {

  public Spec {
    requireNonNull(services, "services");
    services = List.copyOf(services);
    Map<String, ServiceSpec> seen = new LinkedHashMap<>();
    for (ServiceSpec s : services) {
      if (seen.put(s.name(), s) != null) {
        throw new IllegalArgumentException("service '" + s.name() + "' is declared twice");
      }
    }
  }

  /** An empty spec: no services. */
  public static Spec empty() {
    return new Spec(List.of());
  }

  /** The service with this name, if declared. */
  public Optional<ServiceSpec> service(String name) {
    return services.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** A copy of this spec with one service replaced (matched by name). */
  public Spec with(ServiceSpec replacement) {
    return new Spec(
        services.stream().map(s -> s.name().equals(replacement.name()) ? replacement : s).toList());
  }
}
