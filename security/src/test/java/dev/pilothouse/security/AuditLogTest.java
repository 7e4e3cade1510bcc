package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.event.EventChain;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.store.SqliteStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signed Merkle checkpoints over a real event log (the SQLite store's file), tampered with as
 * someone with write access to the file would: edits, deletions, reordering, truncation, and an
 * edit with the whole hash chain recomputed after it.
 */
class AuditLogTest {
  @TempDir Path tmp;
  final InstantSource clock = () -> Instant.parse("2026-11-30T10:00:00Z");

  SqliteStore store(int events) {
    SqliteStore s = SqliteStore.open(tmp.resolve("state.db"), clock);
    for (int i = 1; i <= events; i++) {
      s.emit(new NewEvent(clock.instant(), "Test", "web", "", "event " + i, Map.of("n", "" + i)));
    }
    return s;
  }

  void sql(String... statements) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("state.db"));
        Statement st = c.createStatement()) {
      for (String s : statements) {
        st.executeUpdate(s);
      }
    }
  }

  /** What an attacker who knows the chain's rule does after an edit: recompute every hash. */
  void rechain() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("state.db"));
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT seq, at, type, service, instance, message, fields FROM events ORDER BY"
                    + " seq")) {
      String prev = EventChain.GENESIS;
      List<String> updates = new java.util.ArrayList<>();
      while (rs.next()) {
        Map<String, String> fields =
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readValue(
                    rs.getString("fields"),
                    new com.fasterxml.jackson.core.type.TypeReference<>() {});
        String h =
            EventChain.hash(
                prev,
                rs.getLong("seq"),
                rs.getString("at"),
                rs.getString("type"),
                rs.getString("service"),
                rs.getString("instance"),
                rs.getString("message"),
                fields);
        updates.add(
            "UPDATE events SET prev_hash='"
                + prev
                + "', hash='"
                + h
                + "' WHERE seq="
                + rs.getLong("seq"));
        prev = h;
      }
      rs.close();
      for (String u : updates) {
        st.executeUpdate(u);
      }
    }
  }

  @Test
  void anIntactLog_verifies_andEveryEventHasAProof_thatAnotherTreeDoesNotAccept() throws Exception {
    try (SqliteStore s = store(20)) {
      AuditLog log = new AuditLog(s, tmp.resolve("audit"), clock);
      assertThat(log.checkpoint()).isPresent();
      assertThat(log.checkpoint()).as("nothing new to sign").isEmpty();
      s.emit(new NewEvent(clock.instant(), "Test", "", "", "later", Map.of()));
      AuditLog.Checkpoint c = log.checkpoint().orElseThrow();
      assertThat(c.size()).isEqualTo(21);
      assertThat(Files.getPosixFilePermissions(tmp.resolve("audit/signing.key")))
          .extracting(Object::toString)
          .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");

      AuditLog.Verification v = log.verify();
      assertThat(v.problems()).isEmpty();
      assertThat(v.ok()).isTrue();
      assertThat(v.events()).isEqualTo(21);
      assertThat(v.checkpoints()).isEqualTo(2);
      for (long seq = 1; seq <= 21; seq++) {
        AuditLog.Proof p = log.prove(seq);
        assertThat(p.verified()).as("event " + seq).isTrue();
        assertThat(p.treeSize()).isEqualTo(21);
        byte[] root = java.util.HexFormat.of().parseHex(p.root());
        List<byte[]> path = p.path().stream().map(java.util.HexFormat.of()::parseHex).toList();
        byte[] leaf = java.util.HexFormat.of().parseHex(p.leafHash());
        assertThat(Merkle.verifyInclusion(leaf, seq - 1, 21, path, root)).isTrue();
        assertThat(Merkle.verifyInclusion(leaf, seq % 21, 21, path, root)).isFalse();
      }
      s.emit(new NewEvent(clock.instant(), "Test", "", "", "not yet signed", Map.of()));
      assertThatThrownBy(() -> log.prove(22)).hasMessageContaining("no checkpoint covers event 22");
    }
  }

  @Test
  void anEditedEvent_isFound_evenWithTheChainRecomputed() throws Exception {
    try (SqliteStore s = store(10)) {
      AuditLog log = new AuditLog(s, tmp.resolve("audit"), clock);
      log.checkpoint();
      sql("UPDATE events SET message='nothing happened' WHERE seq=4");
      assertThat(log.verify().problems())
          .anyMatch(p -> p.startsWith("event 4 breaks the hash chain"));
      rechain();
      AuditLog.Verification v = log.verify();
      assertThat(v.ok()).isFalse();
      assertThat(v.problems())
          .containsExactly(
              "events 1..10 no longer hash to the head signed in the checkpoint of"
                  + " 2026-11-30T10:00:00Z (10 events): an event was edited, deleted or reordered");
    }
  }

  @Test
  void deletedReorderedAndTruncatedEvents_areFound() throws Exception {
    try (SqliteStore s = store(10)) {
      AuditLog log = new AuditLog(s, tmp.resolve("audit"), clock);
      log.checkpoint();
      // reordered: two events swap places, chain recomputed
      sql(
          "UPDATE events SET seq=100 WHERE seq=3",
          "UPDATE events SET seq=3 WHERE seq=6",
          "UPDATE events SET seq=6 WHERE seq=100");
      rechain();
      assertThat(log.verify().problems())
          .singleElement()
          .asString()
          .contains("edited, deleted or reordered");
      // truncated: the newest events gone
      sql("DELETE FROM events WHERE seq > 7");
      assertThat(log.verify().problems())
          .anyMatch(p -> p.contains("the log holds 7 events") && p.contains("truncated"));
    }
  }

  @Test
  void anEditedCheckpoint_doesNotVerify() throws Exception {
    try (SqliteStore s = store(5)) {
      AuditLog log = new AuditLog(s, tmp.resolve("audit"), clock);
      log.checkpoint();
      Path f = tmp.resolve("audit/checkpoints");
      Files.writeString(f, Files.readString(f).replaceFirst("^5 ", "4 "));
      assertThat(log.verify().problems())
          .anyMatch(p -> p.contains("does not verify with audit/signing.pub"));
    }
  }
}
