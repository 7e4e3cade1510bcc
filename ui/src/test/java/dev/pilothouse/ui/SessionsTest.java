package dev.pilothouse.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SessionsTest {
  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-11-30T12:00:00Z"));
  private final InstantSource clock = () -> now.get();

  @Test
  void aSessionLastsItsTime_thenIsGone() {
    Sessions sessions = new Sessions(clock, Duration.ofHours(8));
    Sessions.Session s = sessions.open("secret", "ops", "operator");
    assertThat(s.id).hasSizeGreaterThanOrEqualTo(43).isNotEqualTo(s.csrf);
    assertThat(sessions.find(s.id)).containsSame(s);
    now.set(now.get().plus(Duration.ofHours(8)));
    assertThat(sessions.find(s.id)).isEmpty();
    assertThat(sessions.size()).isZero();
  }

  @Test
  void unknownIds_csrf_roles_flash_andRevokedTokens() {
    Sessions sessions = new Sessions(clock, Duration.ofHours(1));
    Sessions.Session ops = sessions.open("t1", "ops", "operator");
    Sessions.Session eyes = sessions.open("t2", "eyes", "viewer");
    assertThat(sessions.find("nope")).isEmpty();
    assertThat(sessions.find(null)).isEmpty();
    assertThat(ops.csrfMatches(ops.csrf)).isTrue();
    assertThat(ops.csrfMatches(eyes.csrf)).isFalse();
    assertThat(ops.csrfMatches(null)).isFalse();
    assertThat(ops.canOperate()).isTrue();
    assertThat(eyes.canOperate()).isFalse();
    ops.flash("done");
    assertThat(ops.takeFlash()).isEqualTo("done");
    assertThat(ops.takeFlash()).isNull();
    sessions.closeToken("t1");
    assertThat(sessions.find(ops.id)).isEmpty();
    assertThat(sessions.find(eyes.id)).isPresent();
  }

  @Test
  void atTheBound_theSessionClosestToExpiryMakesRoom() {
    Sessions sessions = new Sessions(clock, Duration.ofHours(1));
    Sessions.Session first = sessions.open("t", "a", "viewer");
    now.set(now.get().plusSeconds(1));
    for (int i = 1; i < Sessions.MAX_SESSIONS; i++) {
      sessions.open("t", "a", "viewer");
    }
    assertThat(sessions.size()).isEqualTo(Sessions.MAX_SESSIONS);
    Sessions.Session last = sessions.open("t", "a", "viewer");
    assertThat(sessions.size()).isEqualTo(Sessions.MAX_SESSIONS);
    assertThat(sessions.find(first.id)).isEmpty();
    assertThat(sessions.find(last.id)).isPresent();
  }
}
