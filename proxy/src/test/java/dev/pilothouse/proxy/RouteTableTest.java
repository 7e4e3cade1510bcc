package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  static Route route(String prefix) {
    return Route.simple(prefix, prefix, List.of(), RoutePolicy.defaults());
  }

  /** The definition: the longest prefix that matches at a segment boundary. */
  static Route naive(List<Route> routes, String path) {
    Route best = null;
    for (Route r : routes) {
      String p = r.pathPrefix();
      boolean matches =
          path.startsWith(p)
              && (p.length() == path.length() || p.endsWith("/") || path.charAt(p.length()) == '/');
      if (matches && (best == null || p.length() > best.pathPrefix().length())) {
        best = r;
      }
    }
    return best;
  }

  @Provide
  Arbitrary<String> paths() {
    Arbitrary<String> seg = Arbitraries.of("a", "ab", "api", "b", "v1", "x", "");
    return seg.list().ofMinSize(0).ofMaxSize(4).map(l -> "/" + String.join("/", l));
  }

  @Property(tries = 300)
  void indexedMatch_equalsLongestSegmentPrefix(
      @ForAll @Size(min = 1, max = 40) List<@net.jqwik.api.From("paths") String> prefixes,
      @ForAll("paths") String path) {
    Set<String> unique = new LinkedHashSet<>(prefixes);
    List<Route> routes = new ArrayList<>();
    unique.forEach(p -> routes.add(route(p)));
    Route got = RouteTable.of(routes).match(null, path);
    Route want = naive(routes, path);
    assertThat(got == null ? null : got.pathPrefix())
        .isEqualTo(want == null ? null : want.pathPrefix());
  }

  @Test
  void hostRoutesWinOverAnyHost_portAndCaseIgnored() {
    Route any = route("/");
    Route host =
        new Route(
            "h", "Shop.Example", "/", false, List.of(), List.of(), "", RoutePolicy.defaults());
    RouteTable t = RouteTable.of(List.of(any, host));
    assertThat(t.match("shop.example:8080", "/x")).isSameAs(host);
    assertThat(t.match("other", "/x")).isSameAs(any);
    assertThat(t.match(null, "/x")).isSameAs(any);
  }
}
