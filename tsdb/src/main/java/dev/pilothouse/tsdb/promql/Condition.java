package dev.pilothouse.tsdb.promql;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.tsdb.Labels;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A PromQL expression read as a condition that holds or not (a rollout check, a template metric). A
 * top-level comparison is evaluated with {@code bool}, so a comparison that does not hold is told
 * apart from one that has no data: {@code x < 0.05} with x at 0.2 is false, not empty. A series
 * whose left-hand side is NaN (e.g. a quantile of no requests) counts as no data. Other expressions
 * hold when every value is non-zero, and have no data when empty.
 */
public final class Condition {
  private static final Set<String> COMPARISONS = Set.of("==", "!=", "<", ">", "<=", ">=");

  /** What a condition came to. */
  public enum Outcome {
    TRUE,
    FALSE,
    NO_DATA
  }

  /**
   * The outcome, explained.
   *
   * @param value the first failing series' left-hand value (or the first value), NaN if none
   * @param detail e.g. {@code {version="v2"} is 0.41, which is not < 0.1}
   */
  public record Result(Outcome outcome, double value, String detail) {}

  private final Function<Ast.Expr, Value> eval;

  /** A condition evaluator over eval (an engine at a fixed time). */
  public Condition(Function<Ast.Expr, Value> eval) {
    this.eval = requireNonNull(eval, "eval");
  }

  /** Evaluates expression; a parse or evaluation error is thrown to the caller. */
  public Result evaluate(String expression) {
    Ast.Expr e = Parser.parse(expression);
    Ast.Expr top = e;
    while (top instanceof Ast.Paren p) {
      top = p.expr();
    }
    if (top instanceof Ast.Binary b && COMPARISONS.contains(b.op()) && !b.returnBool()) {
      return comparison(b);
    }
    List<Value.Sample> samples = samples(eval.apply(e));
    if (samples.isEmpty()) {
      return new Result(Outcome.NO_DATA, Double.NaN, "the query returned no data");
    }
    for (Value.Sample s : samples) {
      if (s.v() == 0 || Double.isNaN(s.v())) {
        return new Result(Outcome.FALSE, s.v(), name(s.labels()) + " is " + s.v());
      }
    }
    return new Result(Outcome.TRUE, samples.get(0).v(), samples.size() + " series true");
  }

  private Result comparison(Ast.Binary b) {
    List<Value.Sample> held =
        samples(eval.apply(new Ast.Binary(b.op(), b.lhs(), b.rhs(), true, b.matching())));
    if (held.isEmpty()) {
      return new Result(Outcome.NO_DATA, Double.NaN, "the query returned no data");
    }
    List<Value.Sample> lhs = null;
    int nan = 0;
    for (Value.Sample s : held) {
      if (s.v() != 0) {
        continue;
      }
      if (lhs == null) {
        lhs = samples(eval.apply(b.lhs()));
      }
      double left = leftValue(lhs, s.labels());
      if (Double.isNaN(left)) {
        nan++;
        continue;
      }
      return new Result(
          Outcome.FALSE,
          left,
          name(s.labels()) + " is " + left + ", which is not " + b.op() + " the threshold");
    }
    if (nan == held.size()) {
      return new Result(Outcome.NO_DATA, Double.NaN, "no data: the left-hand side is NaN");
    }
    if (lhs == null) {
      lhs = samples(eval.apply(b.lhs()));
    }
    double first = leftValue(lhs, held.get(0).labels());
    return new Result(Outcome.TRUE, first, (held.size() - nan) + " series true");
  }

  /** The left-hand value of the series with these labels (the first, for a scalar). */
  private static double leftValue(List<Value.Sample> lhs, Labels labels) {
    for (Value.Sample l : lhs) {
      if (l.labels().dropName().equals(labels.dropName())) {
        return l.v();
      }
    }
    return lhs.size() == 1 ? lhs.get(0).v() : Double.NaN;
  }

  private static String name(Labels labels) {
    String s = labels.toString();
    return s.isEmpty() ? "{}" : s;
  }

  private static List<Value.Sample> samples(Value v) {
    return switch (v) {
      case Value.Scalar s -> List.of(new Value.Sample(Labels.EMPTY, s.v(), s.t()));
      case Value.Vector vec -> vec.samples();
      default ->
          throw new IllegalArgumentException(
              "the query must return a scalar or an instant vector, not a "
                  + v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT));
    };
  }
}
