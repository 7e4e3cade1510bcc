package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Matcher;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Writes a syntax tree back as PromQL text that Prometheus, VictoriaMetrics and this parser read to
 * the same tree: what a condition built here (a comparison turned into {@code bool}, one side of
 * it) needs to be sent to an external Prometheus-compatible endpoint. Sub-expressions are put in
 * parentheses wherever precedence could otherwise regroup them.
 */
public final class Printer {
  private Printer() {}

  public static String print(Ast.Expr e) {
    StringBuilder b = new StringBuilder();
    write(b, e);
    return b.toString();
  }

  private static void write(StringBuilder b, Ast.Expr e) {
    switch (e) {
      case Ast.NumberLit n -> b.append(number(n.value()));
      case Ast.StringLit s -> quote(b, s.value());
      case Ast.VectorSelector v -> selector(b, v);
      case Ast.MatrixSelector m -> {
        selectorOnly(b, m.selector());
        b.append('[').append(duration(m.rangeMs())).append(']');
        time(b, m.selector().time());
      }
      case Ast.Subquery s -> {
        b.append('(');
        write(b, s.expr());
        b.append(")[").append(duration(s.rangeMs())).append(':');
        if (s.stepMs() > 0) {
          b.append(duration(s.stepMs()));
        }
        b.append(']');
        time(b, s.time());
      }
      case Ast.Call c -> {
        b.append(c.func().name()).append('(');
        for (int i = 0; i < c.args().size(); i++) {
          if (i > 0) {
            b.append(", ");
          }
          write(b, c.args().get(i));
        }
        b.append(')');
      }
      case Ast.Aggregate a -> {
        b.append(a.op());
        if (a.without() || !a.grouping().isEmpty()) {
          b.append(a.without() ? " without (" : " by (")
              .append(String.join(", ", a.grouping()))
              .append(')');
        }
        b.append(" (");
        if (a.param() != null) {
          write(b, a.param());
          b.append(", ");
        }
        write(b, a.expr());
        b.append(')');
      }
      case Ast.Binary x -> {
        b.append('(');
        write(b, x.lhs());
        b.append(") ").append(x.op());
        if (x.returnBool()) {
          b.append(" bool");
        }
        matching(b, x.op(), x.matching());
        b.append(" (");
        write(b, x.rhs());
        b.append(')');
      }
      case Ast.Unary u -> {
        b.append(u.op()).append('(');
        write(b, u.expr());
        b.append(')');
      }
      case Ast.Paren p -> {
        b.append('(');
        write(b, p.expr());
        b.append(')');
      }
    }
  }

  private static void selector(StringBuilder b, Ast.VectorSelector v) {
    selectorOnly(b, v);
    time(b, v.time());
  }

  /** A selector as {@code {__name__="x", a="b"}}: every matcher, the name's included. */
  private static void selectorOnly(StringBuilder b, Ast.VectorSelector v) {
    List<Matcher> ms = v.matchers();
    boolean named = ms.stream().anyMatch(m -> m.name().equals("__name__"));
    b.append('{');
    String sep = "";
    if (!named && v.name() != null && !v.name().isEmpty()) {
      b.append("__name__=");
      quote(b, v.name());
      sep = ", ";
    }
    for (Matcher m : ms) {
      b.append(sep).append(m.name()).append(m.type());
      quote(b, m.value());
      sep = ", ";
    }
    b.append('}');
  }

  private static void time(StringBuilder b, Ast.Time t) {
    if (t == null) {
      return;
    }
    if (t.offsetMs() != 0) {
      b.append(" offset ")
          .append(t.offsetMs() < 0 ? "-" : "")
          .append(duration(Math.abs(t.offsetMs())));
    }
    if (t.atStart()) {
      b.append(" @ start()");
    } else if (t.atEnd()) {
      b.append(" @ end()");
    } else if (t.at() != null) {
      b.append(" @ ")
          .append(t.at() / 1000)
          .append('.')
          .append(String.format("%03d", t.at() % 1000));
    }
  }

  private static void matching(StringBuilder b, String op, Ast.Matching m) {
    if (m == null) {
      return;
    }
    if (m.on() || !m.labels().isEmpty()) {
      b.append(m.on() ? " on (" : " ignoring (").append(String.join(", ", m.labels())).append(')');
    }
    switch (m.card()) {
      case MANY_TO_ONE ->
          b.append(" group_left (").append(String.join(", ", m.include())).append(')');
      case ONE_TO_MANY ->
          b.append(" group_right (").append(String.join(", ", m.include())).append(')');
      default -> {}
    }
  }

  /** Milliseconds as PromQL writes a duration: whole seconds as {@code 5s}, else {@code ms}. */
  static String duration(long ms) {
    return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
  }

  static String number(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "Inf" : "-Inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  private static void quote(StringBuilder b, String s) {
    b.append('"');
    b.append(
        s.chars()
            .mapToObj(
                c ->
                    switch (c) {
                      case '\\' -> "\\\\";
                      case '"' -> "\\\"";
                      case '\n' -> "\\n";
                      case '\r' -> "\\r";
                      case '\t' -> "\\t";
                      default -> String.valueOf((char) c);
                    })
            .collect(Collectors.joining()));
    b.append('"');
  }
}
