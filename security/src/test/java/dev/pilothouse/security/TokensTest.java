package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import dev.pilothouse.core.security.TokenRepository;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TokensTest {
  /** The store's contract in memory (the SQLite store is tested in store/). */
  static final class Memory implements TokenRepository {
    final TreeMap<String, ApiToken> rows = new TreeMap<>();

    @Override
    public void saveToken(ApiToken t) {
      rows.put(t.name(), t);
    }

    @Override
    public List<ApiToken> tokens() {
      return new ArrayList<>(rows.values());
    }
  }

  Instant now = Instant.parse("2026-11-30T10:00:00Z");
  final InstantSource clock = () -> now;
  final Memory repo = new Memory();
  final List<dev.pilothouse.core.event.NewEvent> events = new ArrayList<>();
  final Tokens tokens = new Tokens(repo, events::add, clock);

  @Test
  void aCreatedToken_authenticates_untilItExpiresOrIsRevoked_andOnlyItsHashIsKept() {
    Tokens.Created c =
        tokens.create("grafana", Role.VIEWER, List.of(), List.of(), Duration.ofDays(90));
    assertThat(c.secret()).startsWith("pht_").hasSizeGreaterThan(40);
    assertThat(repo.rows.get("grafana").sha256()).isNotEqualTo(c.secret()).hasSize(64);
    assertThat(repo.rows.toString()).doesNotContain(c.secret());
    assertThat(tokens.authenticate(c.secret())).map(ApiToken::name).contains("grafana");
    assertThat(tokens.authenticate(c.secret() + "x")).isEmpty();
    assertThat(tokens.authenticate("")).isEmpty();

    now = now.plus(Duration.ofDays(90));
    assertThat(tokens.authenticate(c.secret())).isEmpty();

    Tokens.Created d = tokens.create("ci", Role.OPERATOR, List.of("shop"), List.of(), null);
    assertThat(tokens.authenticate(d.secret())).isPresent();
    assertThat(tokens.revoke("ci").revoked()).isEqualTo(now);
    assertThat(tokens.authenticate(d.secret())).isEmpty();
    assertThat(tokens.list()).extracting(ApiToken::name).containsExactly("ci", "grafana");
  }

  @Test
  void badRequests_areRefused_namingTheField() {
    assertThatThrownBy(() -> tokens.create("Bad Name", Role.VIEWER, List.of(), List.of(), null))
        .hasMessageStartingWith("name:");
    assertThatThrownBy(() -> tokens.create("a", Role.VIEWER, List.of("../x"), List.of(), null))
        .hasMessageStartingWith("services:");
    assertThatThrownBy(() -> tokens.create("a", Role.VIEWER, List.of(), List.of("root"), null))
        .hasMessageStartingWith("grants:");
    assertThatThrownBy(
            () -> tokens.create("a", Role.VIEWER, List.of(), List.of(), Duration.ofDays(-1)))
        .hasMessageStartingWith("expires:");
    assertThatThrownBy(
            () -> tokens.create("a", Role.VIEWER, List.of(), List.of(), Duration.ofDays(4000)))
        .hasMessageStartingWith("expires:");
    tokens.create("a", Role.VIEWER, List.of(), List.of(), null);
    assertThatThrownBy(() -> tokens.create("a", Role.ADMIN, List.of(), List.of(), null))
        .hasMessageContaining("exists");
    assertThatThrownBy(() -> tokens.revoke("nope"))
        .isInstanceOfSatisfying(Tokens.TokenException.class, e -> assertThat(e.notFound).isTrue());
    tokens.revoke("a");
    // a revoked name may be given to a new token, which replaces the old record
    assertThat(tokens.create("a", Role.ADMIN, List.of(), List.of(), null).token().role())
        .isEqualTo(Role.ADMIN);
  }

  @Test
  void failedLogins_blockAnAddress_afterTheLimit_andOnlyThatAddress() {
    FailedLogins f = new FailedLogins();
    for (int i = 0; i < FailedLogins.LIMIT - 1; i++) {
      assertThat(f.failed("10.0.0.1")).isFalse();
    }
    assertThat(f.blockedForSeconds("10.0.0.1")).isZero();
    assertThat(f.failed("10.0.0.1")).as("the last one: refused from now on").isTrue();
    assertThat(f.failed("10.0.0.1")).as("already refused").isFalse();
    assertThat(f.blockedForSeconds("10.0.0.1")).isBetween(1L, 60L);
    assertThat(f.blockedForSeconds("10.0.0.2")).isZero();
  }
}
