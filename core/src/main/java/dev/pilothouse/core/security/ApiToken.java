package dev.pilothouse.core.security;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;

/**
 * An API token as the store keeps it: never the secret, only its SHA-256.
 *
 * @param services the services it may act on; empty means all
 * @param grants extra rights beyond its role (so far: "remote-write" for a viewer)
 * @param expires null when it does not expire
 * @param revoked null while it is not revoked
 */
public record ApiToken(
    String name,
    Role role,
    List<String> services,
    List<String> grants,
    Instant created,
    Instant expires,
    Instant revoked,
    String sha256) {

  public ApiToken {
    requireNonNull(name, "name");
    requireNonNull(role, "role");
    requireNonNull(created, "created");
    requireNonNull(sha256, "sha256");
    services = services == null ? List.of() : List.copyOf(services);
    grants = grants == null ? List.of() : List.copyOf(grants);
  }

  /** Valid at that instant: not revoked, not expired. */
  public boolean validAt(Instant now) {
    return revoked == null && (expires == null || now.isBefore(expires));
  }

  /** active, expired or revoked, at that instant. */
  public String state(Instant now) {
    return revoked != null ? "revoked" : validAt(now) ? "active" : "expired";
  }

  public ApiToken revokedAt(Instant at) {
    return new ApiToken(name, role, services, grants, created, expires, at, sha256);
  }
}
