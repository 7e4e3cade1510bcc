package dev.pilothouse.cost;

import dev.pilothouse.core.spec.CostSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which service a bill line belongs to: the first of the spec's {@code cost.allocate} rules that
 * matches it, else {@link #UNALLOCATED}. Each distinct combination of tags, resource, service and
 * account is matched once per slice.
 */
public final class Allocation {
  public static final String UNALLOCATED = "(unallocated)";

  private record Rule(
      String tagKey,
      String tagValue,
      Pattern resource,
      String serviceName,
      String account,
      String service) {}

  private record Key(int tags, int resource, int service, int account) {}

  private final List<Rule> rules;

  public Allocation(List<CostSpec.Allocate> allocate) {
    this.rules =
        allocate.stream()
            .map(
                a ->
                    new Rule(
                        a.tagKey(),
                        a.tagValue(),
                        a.resourceId() == null ? null : glob(a.resourceId()),
                        a.serviceName(),
                        a.account(),
                        a.service()))
            .toList();
  }

  /** A glob (* any run of characters, ? one) as a pattern matching the whole text. */
  static Pattern glob(String g) {
    StringBuilder b = new StringBuilder();
    for (char c : g.toCharArray()) {
      switch (c) {
        case '*' -> b.append(".*");
        case '?' -> b.append('.');
        default -> b.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(b.toString(), Pattern.DOTALL);
  }

  /** The service of a line with these values, or UNALLOCATED. */
  public String service(
      Map<String, String> tags, String resourceId, String serviceName, String account) {
    for (Rule r : rules) {
      if (r.tagKey() != null) {
        String v = tags.get(r.tagKey());
        if (v == null || (r.tagValue() != null && !r.tagValue().equals(v))) {
          continue;
        }
      }
      if (r.resource() != null
          && (resourceId == null || !r.resource().matcher(resourceId).matches())) {
        continue;
      }
      if (r.serviceName() != null && !r.serviceName().equals(serviceName)) {
        continue;
      }
      if (r.account() != null && !r.account().equals(account)) {
        continue;
      }
      return r.service();
    }
    return UNALLOCATED;
  }

  private final Map<String[], Map<Key, String>> cache = new java.util.IdentityHashMap<>();

  /** The service of every row of a row group. */
  public String[] labels(Rows rows) {
    int[] tags = rows.ids(Focus.TAGS);
    int[] res = rows.ids(Focus.RESOURCE);
    int[] svc = rows.ids(Focus.SERVICE);
    int[] acc = rows.ids(Focus.SUB_ACCOUNT);
    String[] tagDict = rows.dictionary(Focus.TAGS);
    Map<Key, String> seen;
    synchronized (cache) {
      seen = cache.computeIfAbsent(tagDict, d -> new HashMap<>());
    }
    String[] out = new String[tags.length];
    for (int i = 0; i < out.length; i++) {
      Key k = new Key(tags[i], res[i], svc[i], acc[i]);
      String s = seen.get(k);
      if (s == null) {
        s =
            service(
                Report.tags(tagDict[tags[i]]),
                rows.dictionary(Focus.RESOURCE)[res[i]],
                rows.dictionary(Focus.SERVICE)[svc[i]],
                rows.dictionary(Focus.SUB_ACCOUNT)[acc[i]]);
        seen.put(k, s);
      }
      out[i] = s;
    }
    return out;
  }
}
