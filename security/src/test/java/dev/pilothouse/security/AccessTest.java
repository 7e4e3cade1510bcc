package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccessTest {
  static ApiToken token(Role role, List<String> services, List<String> grants) {
    return new ApiToken("t", role, services, grants, Instant.EPOCH, null, null, "0".repeat(64));
  }

  static boolean allowed(ApiToken t, String method, String path) {
    return Access.decide(t, method, path).allowed();
  }

  @Test
  void eachRole_mayDoWhatItsNameSays_andEveryRoleAboveItMayToo() {
    // {method, path, least role}
    String[][] calls = {
      {"GET", "/api/v1/status", "viewer"},
      {"GET", "/api/v1/services/shop/logs", "viewer"},
      {"POST", "/api/v1/query", "viewer"},
      {"POST", "/api/v1/query_range", "viewer"},
      {"POST", "/api/v1/label/job/values", "viewer"},
      {"POST", "/api/v1/validate", "viewer"},
      {"POST", "/ofrep/v1/evaluate/flags/new-checkout", "viewer"},
      {"POST", "/api/v1/write", "operator"},
      {"POST", "/api/v1/services/shop/deploy", "operator"},
      {"POST", "/api/v1/services/shop/scale", "operator"},
      {"POST", "/api/v1/rollouts/shop/abort", "operator"},
      {"POST", "/api/v2/silences", "operator"},
      {"DELETE", "/api/v2/silence/abc", "operator"},
      {"PUT", "/api/v1/flags/new-checkout", "operator"},
      {"POST", "/api/v1/backups/shop", "operator"},
      {"POST", "/api/v1/apply", "admin"},
      {"POST", "/api/v1/shutdown", "admin"},
      {"POST", "/api/v1/services/shop/restore", "admin"},
      {"GET", "/api/v1/tokens", "admin"},
      {"POST", "/api/v1/tokens", "admin"},
      {"DELETE", "/api/v1/tokens/grafana", "admin"},
      {"POST", "/api/v1/backups/db/wal/push", "admin"},
      {"POST", "/api/v1/audit/host", "operator"},
      {"POST", "/api/v1/audit/host/fix", "admin"},
      {"GET", "/api/v1/scan", "viewer"},
      {"POST", "/api/v1/scan/update", "admin"},
      {"GET", "/api/v1/secrets", "admin"},
      {"GET", "/api/v1/secrets/db-password/value", "admin"},
      {"PUT", "/api/v1/secrets/db-password", "admin"},
      {"DELETE", "/api/v1/secrets/db-password", "admin"},
      {"POST", "/api/v1/secrets/db-password/rotate", "admin"},
    };
    for (String[] c : calls) {
      Role least = Role.of(c[2]);
      for (Role r : Role.values()) {
        assertThat(allowed(token(r, List.of(), List.of()), c[0], c[1]))
            .as(r.id() + " " + c[0] + " " + c[1])
            .isEqualTo(r.atLeast(least));
      }
    }
  }

  @Test
  void aRefusal_namesTheRoleNeeded() {
    assertThat(Access.decide(token(Role.VIEWER, List.of(), List.of()), "POST", "/api/v1/apply"))
        .extracting(Access.Decision::reason)
        .isEqualTo("token 't' has the role viewer; POST /api/v1/apply needs admin");
  }

  @Test
  void remoteWrite_isOpenToAViewer_onlyWhenGranted() {
    assertThat(
            allowed(
                token(Role.VIEWER, List.of(), List.of("remote-write")), "POST", "/api/v1/write"))
        .isTrue();
    assertThat(
            allowed(
                token(Role.VIEWER, List.of(), List.of("remote-write")), "POST", "/api/v1/apply"))
        .isFalse();
  }

  @Test
  void aScopedToken_actsOnlyOnItsServices_andReadsWhatNamesNone() {
    ApiToken shop = token(Role.OPERATOR, List.of("shop"), List.of());
    assertThat(allowed(shop, "POST", "/api/v1/services/shop/scale")).isTrue();
    assertThat(allowed(shop, "POST", "/api/v1/services/cart/scale")).isFalse();
    assertThat(allowed(shop, "GET", "/api/v1/services/cart/logs")).isFalse();
    assertThat(allowed(shop, "POST", "/api/v1/rollouts/shop/promote")).isTrue();
    assertThat(allowed(shop, "POST", "/api/v1/rollouts/cart/promote")).isFalse();
    assertThat(allowed(shop, "POST", "/api/v1/backups/shop")).isTrue();
    assertThat(allowed(shop, "POST", "/api/v1/backups/prune")).isFalse();
    assertThat(allowed(shop, "GET", "/api/v1/status")).isTrue();
    ApiToken shopAdmin = token(Role.ADMIN, List.of("shop"), List.of());
    assertThat(allowed(shopAdmin, "GET", "/api/v1/secrets/db-password/value"))
        .as("a scoped admin reads no secret: secrets are not scoped to services")
        .isFalse();
    assertThat(allowed(shopAdmin, "GET", "/api/v1/secrets")).isFalse();
    assertThat(allowed(shop, "POST", "/api/v2/silences")).isFalse();
  }
}
