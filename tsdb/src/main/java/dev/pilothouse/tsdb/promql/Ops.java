package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.promql.Value.Sample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Binary operators: arithmetic, comparison and set operations, with vector matching. */
final class Ops {
  private Ops() {}

  static final Set<String> COMPARISON = Set.of("==", "!=", ">", "<", ">=", "<=");

  /** Operators whose result drops the metric name (atan2 keeps it, as in Prometheus). */
  private static final Set<String> ARITHMETIC = Set.of("+", "-", "*", "/", "%", "^");

  static double arith(String op, double l, double r) {
    return switch (op) {
      case "+" -> l + r;
      case "-" -> l - r;
      case "*" -> l * r;
      case "/" -> l / r;
      case "%" -> l % r;
      case "^" -> Math.pow(l, r);
      case "atan2" -> Math.atan2(l, r);
      default -> compare(op, l, r) ? 1 : 0;
    };
  }

  static boolean compare(String op, double l, double r) {
    return switch (op) {
      case "==" -> l == r;
      case "!=" -> l != r;
      case ">" -> l > r;
      case "<" -> l < r;
      case ">=" -> l >= r;
      case "<=" -> l <= r;
      default -> throw new IllegalArgumentException(op);
    };
  }

  static List<Sample> vectorScalar(
      String op, List<Sample> vec, double scalar, boolean scalarLeft, boolean returnBool) {
    List<Sample> out = new ArrayList<>();
    boolean cmp = COMPARISON.contains(op);
    for (Sample s : vec) {
      double l = scalarLeft ? scalar : s.v();
      double r = scalarLeft ? s.v() : scalar;
      double value;
      if (cmp) {
        boolean keep = compare(op, l, r);
        if (returnBool) {
          value = keep ? 1 : 0;
        } else if (keep) {
          value = s.v();
        } else {
          continue;
        }
      } else {
        value = arith(op, l, r);
      }
      Labels labels = ARITHMETIC.contains(op) || returnBool ? s.labels().dropName() : s.labels();
      out.add(new Sample(labels, value, s.t()));
    }
    return out;
  }

  /** The matching key of a series: the on() labels, or all but the ignoring() ones and name. */
  static Labels signature(Labels l, Ast.Matching m) {
    if (m.on()) {
      return l.keep(m.labels());
    }
    List<String> drop = new ArrayList<>(m.labels());
    drop.add(Labels.NAME);
    return l.without(drop);
  }

  static List<Sample> vectorVector(
      String op, List<Sample> lhs, List<Sample> rhs, Ast.Matching m, boolean returnBool) {
    boolean oneToMany = m.card() == Ast.Matching.Card.ONE_TO_MANY;
    List<Sample> many = oneToMany ? rhs : lhs;
    List<Sample> one = oneToMany ? lhs : rhs;
    Map<Labels, Sample> oneSide = new HashMap<>();
    for (Sample s : one) {
      Labels sig = signature(s.labels(), m);
      Sample dup = oneSide.put(sig, s);
      if (dup != null) {
        String side = oneToMany ? "left" : "right";
        throw new EvalException(
            "found duplicate series for the match group "
                + sig
                + " on the "
                + side
                + " hand-side of the operation: ["
                + dup.labels()
                + ", "
                + s.labels()
                + "];many-to-many matching not allowed: matching labels must be unique on one side");
      }
    }
    boolean cmp = COMPARISON.contains(op);
    Map<Labels, Set<Labels>> matched = new HashMap<>();
    List<Sample> out = new ArrayList<>();
    for (Sample s : many) {
      Labels sig = signature(s.labels(), m);
      Sample o = oneSide.get(sig);
      if (o == null) {
        continue;
      }
      double l = oneToMany ? o.v() : s.v();
      double r = oneToMany ? s.v() : o.v();
      double value;
      if (cmp) {
        boolean keep = compare(op, l, r);
        if (returnBool) {
          value = keep ? 1 : 0;
        } else if (keep) {
          value = l;
        } else {
          continue;
        }
      } else {
        value = arith(op, l, r);
      }
      Labels metric = resultLabels(s.labels(), o.labels(), op, m);
      if (returnBool) {
        metric = metric.dropName();
      }
      Set<Labels> inserted = matched.get(sig);
      if (m.card() == Ast.Matching.Card.ONE_TO_ONE) {
        if (inserted != null) {
          throw new EvalException(
              "multiple matches for labels: many-to-one matching must be explicit"
                  + " (group_left/group_right)");
        }
        matched.put(sig, Set.of());
      } else {
        if (inserted == null) {
          inserted = new HashSet<>();
          matched.put(sig, inserted);
        } else if (inserted.contains(metric)) {
          throw new EvalException(
              "multiple matches for labels: grouping labels must ensure unique matches");
        }
        inserted.add(metric);
      }
      out.add(new Sample(metric, value, s.t()));
    }
    return out;
  }

  private static Labels resultLabels(Labels many, Labels one, String op, Ast.Matching m) {
    Map<String, String> b = many.toMap();
    if (ARITHMETIC.contains(op)) {
      b.remove(Labels.NAME);
    }
    if (m.card() == Ast.Matching.Card.ONE_TO_ONE) {
      if (m.on()) {
        b.keySet().retainAll(m.labels());
      } else {
        m.labels().forEach(b::remove);
      }
    }
    for (String ln : m.include()) {
      String v = one.get(ln);
      if (v.isEmpty()) {
        b.remove(ln);
      } else {
        b.put(ln, v);
      }
    }
    return Labels.of(b);
  }

  static List<Sample> and(List<Sample> lhs, List<Sample> rhs, Ast.Matching m) {
    Set<Labels> right = new HashSet<>();
    rhs.forEach(s -> right.add(signature(s.labels(), m)));
    List<Sample> out = new ArrayList<>();
    for (Sample s : lhs) {
      if (right.contains(signature(s.labels(), m))) {
        out.add(s);
      }
    }
    return out;
  }

  static List<Sample> or(List<Sample> lhs, List<Sample> rhs, Ast.Matching m) {
    Set<Labels> left = new HashSet<>();
    List<Sample> out = new ArrayList<>(lhs);
    lhs.forEach(s -> left.add(signature(s.labels(), m)));
    for (Sample s : rhs) {
      if (!left.contains(signature(s.labels(), m))) {
        out.add(s);
      }
    }
    return out;
  }

  static List<Sample> unless(List<Sample> lhs, List<Sample> rhs, Ast.Matching m) {
    Set<Labels> right = new HashSet<>();
    rhs.forEach(s -> right.add(signature(s.labels(), m)));
    List<Sample> out = new ArrayList<>();
    for (Sample s : lhs) {
      if (!right.contains(signature(s.labels(), m))) {
        out.add(s);
      }
    }
    return out;
  }
}
