package dev.pilothouse.security;

import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import dev.pilothouse.core.security.TokenRepository;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * API tokens beside the daemon's own (the state directory's api-token, which is admin): created
 * with a role, an optional scope to services and an expiry, shown once, kept only as a SHA-256,
 * revoked by name.
 */
public final class Tokens {
  /** A token just made: its record, and the secret, which is shown this once. */
  public record Created(ApiToken token, String secret) {}

  /** A request the tokens refuse: names the field and what to do. */
  public static final class TokenException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final boolean notFound;

    TokenException(String message, boolean notFound) {
      super(message);
      this.notFound = notFound;
    }
  }

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final Pattern SERVICE = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /** Longest lifetime a token may be given; unlimited tokens are made by leaving it out. */
  public static final Duration MAX_LIFETIME = Duration.ofDays(3650);

  /** At most this many tokens (revoked ones included) are kept. */
  public static final int MAX_TOKENS = 1000;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final TokenRepository repo;
  private final dev.pilothouse.core.event.EventSink events;
  private final InstantSource clock;
  // what the store holds: every call with a token reads it, only create and revoke change it
  private volatile List<ApiToken> cache;

  /** Tokens kept in repo; each made or revoked is an event (TokenCreated, TokenRevoked). */
  public Tokens(
      TokenRepository repo, dev.pilothouse.core.event.EventSink events, InstantSource clock) {
    this.repo = repo;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Makes a token.
   *
   * @param expiresIn null for a token that does not expire
   * @throws TokenException naming what is wrong
   */
  public Created create(
      String name, Role role, List<String> services, List<String> grants, Duration expiresIn) {
    return create(name, role, services, grants, expiresIn, newSecret());
  }

  /** A new token secret: {@code pht_} and 256 random bits, base64url. */
  public static String newSecret() {
    byte[] raw = new byte[32];
    RANDOM.nextBytes(raw);
    return "pht_" + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  /**
   * Makes a token whose secret was chosen beforehand (a secret rotation stores it first, so that a
   * daemon killed in between makes the same token again); making it again is a no-op.
   */
  public synchronized Created create(
      String name,
      Role role,
      List<String> services,
      List<String> grants,
      Duration expiresIn,
      String secret) {
    if (secret == null || !secret.matches("pht_[A-Za-z0-9_-]{43}")) {
      throw new TokenException("a token secret is pht_ and 43 base64url characters", false);
    }
    if (name == null || !NAME.matcher(name).matches()) {
      throw new TokenException(
          "name: '" + name + "' is not a token name: use 1 to 63 lowercase letters, digits and '-'",
          false);
    }
    for (String s : services) {
      if (s == null || !SERVICE.matcher(s).matches()) {
        throw new TokenException("services: '" + s + "' is not a service name", false);
      }
    }
    for (String g : grants) {
      if (!Access.REMOTE_WRITE.equals(g)) {
        throw new TokenException(
            "grants: unknown grant '" + g + "': the only grant is " + Access.REMOTE_WRITE, false);
      }
    }
    if (expiresIn != null && (expiresIn.isNegative() || expiresIn.isZero())) {
      throw new TokenException("expires: must be a positive duration such as 90d", false);
    }
    if (expiresIn != null && expiresIn.compareTo(MAX_LIFETIME) > 0) {
      throw new TokenException("expires: at most 3650d; leave it out for no expiry", false);
    }
    Instant now = clock.instant();
    List<ApiToken> all = repo.tokens();
    Optional<ApiToken> same = all.stream().filter(t -> t.name().equals(name)).findFirst();
    if (same.isPresent() && same.get().validAt(now) && same.get().sha256().equals(sha256(secret))) {
      return new Created(same.get(), secret);
    }
    if (same.isPresent() && same.get().validAt(now)) {
      throw new TokenException(
          "name: a token named '" + name + "' exists: revoke it first or pick another name", false);
    }
    if (same.isEmpty() && all.size() >= MAX_TOKENS) {
      throw new TokenException(
          "there are "
              + all.size()
              + " tokens (the limit): revoked and expired names can be reused",
          false);
    }
    ApiToken t =
        new ApiToken(
            name,
            role,
            services,
            grants,
            now,
            expiresIn == null ? null : now.plus(expiresIn),
            null,
            sha256(secret));
    repo.saveToken(t);
    cache = null;
    emit("TokenCreated", "API token '" + name + "' created with the role " + role.id(), t);
    return new Created(t, secret);
  }

  /** The valid token this secret belongs to, if any (compared in constant time per token). */
  public Optional<ApiToken> authenticate(String secret) {
    if (secret == null || !secret.startsWith("pht_")) {
      return Optional.empty();
    }
    byte[] given = sha256(secret).getBytes(StandardCharsets.US_ASCII);
    Instant now = clock.instant();
    ApiToken found = null;
    for (ApiToken t : cached()) {
      if (MessageDigest.isEqual(given, t.sha256().getBytes(StandardCharsets.US_ASCII))) {
        found = t;
      }
    }
    return found != null && found.validAt(now) ? Optional.of(found) : Optional.empty();
  }

  /** Every token, revoked and expired ones too, by name. */
  public List<ApiToken> list() {
    return repo.tokens();
  }

  /**
   * Revokes a token at once.
   *
   * @throws TokenException when there is no token of that name
   */
  public synchronized ApiToken revoke(String name) {
    ApiToken t =
        repo.tokens().stream()
            .filter(x -> x.name().equals(name))
            .findFirst()
            .orElseThrow(
                () ->
                    new TokenException(
                        "no token named '" + name + "' (see 'pilothouse token list')", true));
    if (t.revoked() != null) {
      return t;
    }
    ApiToken r = t.revokedAt(clock.instant());
    repo.saveToken(r);
    cache = null;
    emit("TokenRevoked", "API token '" + name + "' revoked", r);
    return r;
  }

  private void emit(String type, String message, ApiToken t) {
    events.emit(
        new dev.pilothouse.core.event.NewEvent(
            clock.instant(),
            type,
            "",
            "",
            message,
            java.util.Map.of("token", t.name(), "role", t.role().id())));
  }

  private List<ApiToken> cached() {
    List<ApiToken> c = cache;
    if (c == null) {
      c = repo.tokens();
      cache = c;
    }
    return c;
  }

  static String sha256(String s) {
    return dev.pilothouse.core.spec.Hashing.sha256Hex(s);
  }
}
