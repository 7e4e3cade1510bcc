package dev.pilothouse.core.alerting.template;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Go's template built-ins and Prometheus's template functions. */
final class Functions {
  static final Set<String> NAMES =
      Set.of(
          "and",
          "or",
          "not",
          "len",
          "index",
          "print",
          "printf",
          "println",
          "eq",
          "ne",
          "lt",
          "le",
          "gt",
          "ge",
          "html",
          "js",
          "urlquery",
          "humanize",
          "humanize1024",
          "humanizeDuration",
          "humanizePercentage",
          "humanizeTimestamp",
          "title",
          "toUpper",
          "toLower",
          "match",
          "reReplaceAll",
          "stripPort",
          "stripDomain",
          "parseDuration",
          "safeHtml",
          "externalURL",
          "pathPrefix",
          "query",
          "first",
          "label",
          "value",
          "sortByLabel",
          "strvalue",
          "args");

  private final Template.Query query;
  private final String externalUrl;

  Functions(Template.Query query, String externalUrl) {
    this.query = query;
    this.externalUrl = externalUrl;
  }

  Object call(String name, List<Object> a) {
    return switch (name) {
      case "and" -> {
        need(a, 1, -1);
        Object v = a.get(0);
        for (Object x : a) {
          v = x;
          if (!Exec.truth(x)) {
            break;
          }
        }
        yield v;
      }
      case "or" -> {
        need(a, 1, -1);
        Object v = a.get(0);
        for (Object x : a) {
          v = x;
          if (Exec.truth(x)) {
            break;
          }
        }
        yield v;
      }
      case "not" -> !Exec.truth(one(a));
      case "len" -> {
        Object v = one(a);
        yield switch (v) {
          case String s -> (long) s.getBytes(StandardCharsets.UTF_8).length;
          case Map<?, ?> m -> (long) m.size();
          case List<?> l -> (long) l.size();
          default -> throw new TemplateException("len of type " + GoFormat.print(v));
        };
      }
      case "index" -> {
        need(a, 1, -1);
        Object v = a.get(0);
        for (Object k : a.subList(1, a.size())) {
          if (v instanceof Map<?, ?> m) {
            v = m.containsKey(k) ? m.get(k) : "";
          } else if (v instanceof List<?> l && k instanceof Long i) {
            if (i < 0 || i >= l.size()) {
              throw new TemplateException("index out of range: " + i);
            }
            v = l.get((int) (long) i);
          } else {
            throw new TemplateException("can't index item of type " + GoFormat.print(v));
          }
        }
        yield v;
      }
      case "print" -> sprint(a);
      case "println" -> {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.size(); i++) {
          sb.append(i == 0 ? "" : " ").append(GoFormat.print(a.get(i)));
        }
        yield sb.append('\n').toString();
      }
      case "printf" -> {
        need(a, 1, -1);
        yield GoFormat.printf(string(a.get(0)), a.subList(1, a.size()));
      }
      case "eq" -> {
        need(a, 2, -1);
        boolean any = false;
        for (Object o : a.subList(1, a.size())) {
          any |= compare(a.get(0), o) == 0;
        }
        yield any;
      }
      case "ne" -> {
        need(a, 2, 2);
        yield compare(a.get(0), a.get(1)) != 0;
      }
      case "lt" -> two(a) < 0;
      case "le" -> two(a) <= 0;
      case "gt" -> two(a) > 0;
      case "ge" -> two(a) >= 0;
      case "html", "safeHtml" -> name.equals("safeHtml") ? string(one(a)) : html(sprint(a));
      case "js" -> sprint(a).replace("\\", "\\\\").replace("'", "\\'").replace("\"", "\\\"");
      case "urlquery" -> URLEncoder.encode(sprint(a), StandardCharsets.UTF_8);
      case "humanize" -> Humanize.si(number(one(a)));
      case "humanize1024" -> Humanize.binary(number(one(a)));
      case "humanizeDuration" -> Humanize.duration(number(one(a)));
      case "humanizePercentage" -> GoFormat.g(number(one(a)) * 100, 4) + "%";
      case "humanizeTimestamp" -> timestamp(number(one(a)));
      case "title" -> title(string(one(a)));
      case "toUpper" -> string(one(a)).toUpperCase(java.util.Locale.ROOT);
      case "toLower" -> string(one(a)).toLowerCase(java.util.Locale.ROOT);
      case "match" -> {
        need(a, 2, 2);
        yield regex(string(a.get(0))).matcher(string(a.get(1))).find();
      }
      case "reReplaceAll" -> {
        need(a, 3, 3);
        yield regex(string(a.get(0))).matcher(string(a.get(2))).replaceAll(string(a.get(1)));
      }
      case "stripPort" -> stripPort(string(one(a)));
      case "stripDomain" -> stripDomain(string(one(a)));
      case "parseDuration" -> Humanize.parseDuration(string(one(a)));
      case "externalURL" -> {
        need(a, 0, 0);
        yield externalUrl;
      }
      case "pathPrefix" -> {
        need(a, 0, 0);
        yield java.net.URI.create(externalUrl.isEmpty() ? "/" : externalUrl).getPath();
      }
      case "query" -> {
        if (query == null) {
          throw new TemplateException("query is not available here");
        }
        List<Object> out = new ArrayList<>();
        for (Template.Sample s : query.query(string(one(a)))) {
          out.add(Map.of("Labels", Map.copyOf(s.labels()), "Value", s.value()));
        }
        yield out;
      }
      case "first" -> {
        Object v = one(a);
        if (!(v instanceof List<?> l) || l.isEmpty()) {
          throw new TemplateException("first() called on vector with no elements");
        }
        yield l.get(0);
      }
      case "label" -> {
        need(a, 2, 2);
        Object s = a.get(1);
        if (s instanceof Map<?, ?> m && m.get("Labels") instanceof Map<?, ?> labels) {
          Object v = labels.get(string(a.get(0)));
          yield v == null ? "" : v;
        }
        yield "";
      }
      case "value" -> {
        Object s = one(a);
        yield s instanceof Map<?, ?> m && m.get("Value") instanceof Double d ? d : 0.0;
      }
      case "strvalue" -> {
        Object s = one(a);
        if (s instanceof Map<?, ?> m && m.get("Labels") instanceof Map<?, ?> labels) {
          Object v = labels.get("__value__");
          yield v == null ? "" : v;
        }
        yield "";
      }
      case "sortByLabel" -> {
        need(a, 2, 2);
        String label = string(a.get(0));
        if (!(a.get(1) instanceof List<?> l)) {
          throw new TemplateException("sortByLabel needs a query result");
        }
        List<Object> sorted = new ArrayList<>(l);
        sorted.sort(Comparator.comparing(s -> String.valueOf(call("label", List.of(label, s)))));
        yield sorted;
      }
      case "args" -> {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < a.size(); i++) {
          m.put("arg" + i, a.get(i));
        }
        yield m;
      }
      default -> throw new TemplateException("function \"" + name + "\" not defined");
    };
  }

  private static String sprint(List<Object> a) {
    // Go's Sprint: a space between operands when neither is a string.
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < a.size(); i++) {
      if (i > 0 && !(a.get(i) instanceof String) && !(a.get(i - 1) instanceof String)) {
        sb.append(' ');
      }
      sb.append(GoFormat.print(a.get(i)));
    }
    return sb.toString();
  }

  private static void need(List<Object> a, int min, int max) {
    if (a.size() < min || (max >= 0 && a.size() > max)) {
      throw new TemplateException(
          "wrong number of args: want "
              + (min == max ? String.valueOf(min) : "at least " + min)
              + " got "
              + a.size());
    }
  }

  private static Object one(List<Object> a) {
    need(a, 1, 1);
    return a.get(0);
  }

  private static int two(List<Object> a) {
    need(a, 2, 2);
    return compare(a.get(0), a.get(1));
  }

  private static int compare(Object x, Object y) {
    if (x instanceof Number a && y instanceof Number b) {
      return Double.compare(a.doubleValue(), b.doubleValue());
    }
    if (x instanceof String a && y instanceof String b) {
      return a.compareTo(b);
    }
    if (x instanceof Boolean a && y instanceof Boolean b) {
      return a.equals(b) ? 0 : 1;
    }
    if (x == Exec.MISSING && y instanceof String b) {
      return b.isEmpty() ? 0 : -1; // a missing label reads as ""
    }
    throw new TemplateException(
        "incompatible types for comparison: " + GoFormat.print(x) + ", " + GoFormat.print(y));
  }

  private static String string(Object o) {
    if (o instanceof String s) {
      return s;
    }
    if (o == Exec.MISSING) {
      return "";
    }
    throw new TemplateException("expected a string, got " + GoFormat.print(o));
  }

  /** Prometheus converts strings, integers and floats to a number for the humanize functions. */
  private static double number(Object o) {
    return switch (o) {
      case Double d -> d;
      case Long l -> l;
      case String s -> {
        try {
          yield Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
          throw new TemplateException("strconv.ParseFloat: parsing \"" + s + "\": invalid syntax");
        }
      }
      default -> throw new TemplateException("can't convert " + GoFormat.print(o) + " to float");
    };
  }

  private static Pattern regex(String re) {
    try {
      return Pattern.compile(re);
    } catch (PatternSyntaxException e) {
      throw new TemplateException("invalid regular expression: " + e.getDescription());
    }
  }

  private static String html(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&#34;")
        .replace("'", "&#39;");
  }

  private static String title(String s) {
    StringBuilder sb = new StringBuilder();
    boolean start = true;
    for (char c : s.toCharArray()) {
      sb.append(start && Character.isLetter(c) ? Character.toTitleCase(c) : c);
      start = !Character.isLetterOrDigit(c) && c != '_' && c != '\'';
    }
    return sb.toString();
  }

  private static final DateTimeFormatter GO_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  /** Go's time.Time String() in UTC at Prometheus's millisecond precision (humanizeTimestamp). */
  private static String timestamp(double seconds) {
    if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
      throw new TemplateException("value is NaN or Inf");
    }
    double nanos = seconds * 1e9;
    if (nanos > Long.MAX_VALUE || nanos < Long.MIN_VALUE) {
      throw new TemplateException(GoFormat.value(seconds) + " cannot be represented as a time");
    }
    long ms = (long) nanos / 1_000_000;
    Instant t = Instant.ofEpochMilli(ms);
    long frac = Math.floorMod(ms, 1000L);
    String f =
        frac == 0
            ? ""
            : "." + String.format(java.util.Locale.ROOT, "%03d", frac).replaceAll("0+$", "");
    return GO_TIME.format(t) + f + " +0000 UTC";
  }

  private static String stripPort(String hostPort) {
    if (hostPort.startsWith("[")) {
      int close = hostPort.indexOf(']');
      return close > 0 && hostPort.startsWith(":", close + 1)
          ? hostPort.substring(1, close)
          : hostPort;
    }
    int colon = hostPort.lastIndexOf(':');
    if (colon < 0 || hostPort.indexOf(':') != colon) {
      return hostPort;
    }
    return hostPort.substring(0, colon);
  }

  private static String stripDomain(String hostPort) {
    String host = stripPort(hostPort);
    String port = host.equals(hostPort) ? "" : hostPort.substring(hostPort.lastIndexOf(':'));
    if (host.matches("[0-9.]+") || host.contains(":")) {
      return hostPort; // an IP address
    }
    int dot = host.indexOf('.');
    return (dot < 0 ? host : host.substring(0, dot)) + port;
  }
}
