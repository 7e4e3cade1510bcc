package dev.pilothouse.ui;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The dashboard's logged-in browsers: a random session id (the cookie) to the API token it logged
 * in with, the token's name and role, and a per-session CSRF token. Held in memory only: a daemon
 * restart logs everyone out, and a token never reaches a file or a log through a session.
 */
final class Sessions {
  /** Sessions held at once; the one closest to expiry goes when another logs in. */
  static final int MAX_SESSIONS = 10_000;

  /** One logged-in browser. */
  static final class Session {
    final String id;
    final String token;
    final String name;
    final String role;
    final String csrf;
    final Instant expires;
    private final AtomicReference<String> flash = new AtomicReference<>();

    Session(String id, String token, String name, String role, String csrf, Instant expires) {
      this.id = id;
      this.token = token;
      this.name = name;
      this.role = role;
      this.csrf = csrf;
      this.expires = expires;
    }

    /** Whether the token's role may make day-to-day changes (scale, restart, rollouts). */
    boolean canOperate() {
      return role.equals("operator") || role.equals("admin");
    }

    /** Leaves a message for the next page this session sees. */
    void flash(String message) {
      flash.set(message);
    }

    /** The message left for this page, once. */
    String takeFlash() {
      return flash.getAndSet(null);
    }

    /** Whether a form's CSRF field is this session's. */
    boolean csrfMatches(String given) {
      return given != null
          && MessageDigest.isEqual(
              given.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
              csrf.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();
  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  private final InstantSource clock;
  private final Duration ttl;

  Sessions(InstantSource clock, Duration ttl) {
    this.clock = clock;
    this.ttl = ttl;
  }

  Duration ttl() {
    return ttl;
  }

  /** A new session for a token that the daemon accepted. */
  Session open(String token, String name, String role) {
    Instant now = clock.instant();
    byId.values().removeIf(s -> !s.expires.isAfter(now));
    while (byId.size() >= MAX_SESSIONS) {
      byId.values().stream()
          .min(Comparator.comparing(s -> s.expires))
          .ifPresent(s -> byId.remove(s.id));
    }
    Session s = new Session(random(), token, name, role, random(), now.plus(ttl));
    byId.put(s.id, s);
    return s;
  }

  /** The live session of this cookie value, if any. */
  Optional<Session> find(String id) {
    if (id == null || id.isEmpty()) {
      return Optional.empty();
    }
    Session s = byId.get(id);
    if (s == null) {
      return Optional.empty();
    }
    if (!s.expires.isAfter(clock.instant())) {
      byId.remove(id);
      return Optional.empty();
    }
    return Optional.of(s);
  }

  void close(String id) {
    if (id != null) {
      byId.remove(id);
    }
  }

  /** Ends every session of a token the daemon no longer accepts. */
  void closeToken(String token) {
    byId.values().removeIf(s -> s.token.equals(token));
  }

  int size() {
    return byId.size();
  }

  private static String random() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
