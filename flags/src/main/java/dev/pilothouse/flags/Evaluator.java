package dev.pilothouse.flags;

import com.google.re2j.Pattern;
import dev.pilothouse.core.flags.Flag;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Evaluates a flag for a context, as OpenFeature defines the result: a value, the variant, a reason
 * (STATIC, TARGETING_MATCH, SPLIT, DISABLED, DEFAULT) or an error code.
 *
 * <p>A split puts a context in a bucket 0–9,999 from the first 8 bytes of SHA-256 of {@code flagKey
 * + "/" + targetingKey}: the same user gets the same variant on every evaluation, on every daemon,
 * and moving a split from 10 % to 20 % keeps the first 10 % where they were.
 */
public final class Evaluator {
  private Evaluator() {}

  /** The context attribute that identifies who is evaluated (OpenFeature's targeting key). */
  public static final String TARGETING_KEY = "targetingKey";

  private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

  /**
   * One evaluation.
   *
   * @param errorCode null on success; FLAG_NOT_FOUND, TARGETING_KEY_MISSING, … otherwise
   */
  public record Result(
      String key,
      Object value,
      String variant,
      String reason,
      String errorCode,
      String errorDetails) {
    static Result error(String key, String code, String details) {
      return new Result(key, null, null, "ERROR", code, details);
    }
  }

  /** Evaluates flag for context (attribute name to value; values as JSON gives them). */
  public static Result evaluate(Flag flag, Map<String, Object> context) {
    if (!flag.enabled()) {
      return ok(flag, flag.offVariant(), "DISABLED");
    }
    for (Flag.Rule rule : flag.rules()) {
      if (!rule.when().stream().allMatch(c -> holds(c, context.get(c.attribute())))) {
        continue;
      }
      if (rule.variant() != null) {
        return ok(flag, rule.variant(), rule.when().isEmpty() ? "STATIC" : "TARGETING_MATCH");
      }
      Object key = context.get(TARGETING_KEY);
      if (!(key instanceof String k) || k.isEmpty()) {
        return Result.error(
            flag.key(),
            "TARGETING_KEY_MISSING",
            "rule '"
                + rule.name()
                + "' splits by percentage and needs a targetingKey in the context");
      }
      int bucket = bucket(flag.key(), k);
      int upTo = 0;
      for (Map.Entry<String, Integer> e : rule.split().entrySet()) {
        upTo += e.getValue() * 100;
        if (bucket < upTo) {
          return ok(flag, e.getKey(), "SPLIT");
        }
      }
    }
    return ok(flag, flag.defaultVariant(), flag.rules().isEmpty() ? "STATIC" : "DEFAULT");
  }

  private static Result ok(Flag flag, String variant, String reason) {
    return new Result(flag.key(), flag.variants().get(variant), variant, reason, null, null);
  }

  /** 0–9,999, stable for a flag and a targeting key. */
  static int bucket(String flagKey, String targetingKey) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((flagKey + "/" + targetingKey).getBytes(StandardCharsets.UTF_8));
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (h[i] & 0xff);
      }
      return (int) Long.remainderUnsigned(v, 10_000);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static boolean holds(Flag.Condition c, Object attribute) {
    if (c.op() == Flag.Condition.Op.EXISTS) {
      return attribute != null;
    }
    if (attribute == null) {
      return c.op() == Flag.Condition.Op.NOT_IN;
    }
    String v = String.valueOf(attribute);
    List<String> values = c.values();
    return switch (c.op()) {
      case IN -> values.contains(v);
      case NOT_IN -> !values.contains(v);
      case STARTS_WITH -> values.stream().anyMatch(v::startsWith);
      case ENDS_WITH -> values.stream().anyMatch(v::endsWith);
      case MATCHES ->
          values.stream().anyMatch(p -> PATTERNS.computeIfAbsent(p, Pattern::compile).matches(v));
      case LT, LTE, GT, GTE -> compare(v, values.get(0), c.op());
      case EXISTS -> true;
    };
  }

  /** Numbers compare as numbers; anything else as text. */
  private static boolean compare(String a, String b, Flag.Condition.Op op) {
    int cmp;
    try {
      cmp = Double.compare(Double.parseDouble(a), Double.parseDouble(b));
    } catch (NumberFormatException e) {
      cmp = a.compareTo(b);
    }
    return switch (op) {
      case LT -> cmp < 0;
      case LTE -> cmp <= 0;
      case GT -> cmp > 0;
      default -> cmp >= 0;
    };
  }
}
