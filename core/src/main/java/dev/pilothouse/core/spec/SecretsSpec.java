package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code secrets:} section: how each named secret is rotated. Values never appear in a spec;
 * they are set with {@code pilothouse secrets set} and kept encrypted by the daemon.
 */
public record SecretsSpec(List<Policy> policies) {
  public SecretsSpec {
    policies = policies == null ? List.of() : List.copyOf(policies);
  }

  /** No rotation declared. */
  public static SecretsSpec none() {
    return new SecretsSpec(List.of());
  }

  /** The policy of the named secret, if the spec declares one. */
  public Optional<Policy> policy(String name) {
    return policies.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /**
   * How one secret is rotated: a new random value, a PostgreSQL role's password, or an API token.
   *
   * @param every null: only when asked ({@code pilothouse secrets rotate NAME})
   * @param length random bytes in a generated value (written base64url)
   * @param postgres null unless the secret is a PostgreSQL role's password
   * @param apiToken null unless the secret is an API token of this daemon
   */
  public record Policy(
      String name, Duration every, int length, Postgres postgres, ApiTokenTarget apiToken) {
    public Policy {
      requireNonNull(name, "name");
    }

    /** generate, postgres or api-token. */
    public String kind() {
      return postgres != null ? "postgres" : apiToken != null ? "api-token" : "generate";
    }
  }

  /**
   * A PostgreSQL role whose password the secret is: rotation connects as adminUser (password in the
   * secret adminSecret) and runs ALTER ROLE, then logs in as the role with the new password.
   */
  public record Postgres(
      String host, int port, String database, String role, String adminUser, String adminSecret) {
    public Postgres {
      requireNonNull(host, "host");
      requireNonNull(database, "database");
      requireNonNull(role, "role");
      requireNonNull(adminUser, "adminUser");
      requireNonNull(adminSecret, "adminSecret");
    }
  }

  /** An API token of this daemon, with the role (and services) each new token gets. */
  public record ApiTokenTarget(String role, List<String> services) {
    public ApiTokenTarget {
      requireNonNull(role, "role");
      services = services == null ? List.of() : List.copyOf(services);
    }
  }
}
