package dev.pilothouse.core.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventChainTest {
  static List<Event> chain(int n) {
    List<Event> out = new ArrayList<>();
    String prev = EventChain.GENESIS;
    for (int i = 1; i <= n; i++) {
      Instant at = Instant.parse("2026-01-01T00:00:00Z").plusSeconds(i);
      Map<String, String> f = Map.of("k", Integer.toString(i));
      String h = EventChain.hash(prev, i, at.toString(), "T", "shop", "shop-1", "m" + i, f);
      out.add(new Event(i, at, "T", "shop", "shop-1", "m" + i, f, prev, h));
      prev = h;
    }
    return out;
  }

  @Test
  void intactChain_verifies() {
    assertThat(EventChain.firstBroken(EventChain.GENESIS, chain(5))).isEmpty();
  }

  @Test
  void editedEvent_isDetectedAtItsSequenceNumber() {
    List<Event> events = chain(5);
    Event e = events.get(2);
    events.set(
        2,
        new Event(
            e.seq(),
            e.at(),
            e.type(),
            e.service(),
            e.instance(),
            "edited",
            e.fields(),
            e.prevHash(),
            e.hash()));
    assertThat(EventChain.firstBroken(EventChain.GENESIS, events)).contains(3L);
  }

  @Test
  void removedEvent_breaksTheNextLink() {
    List<Event> events = chain(5);
    events.remove(1);
    assertThat(EventChain.firstBroken(EventChain.GENESIS, events)).contains(3L);
  }
}
