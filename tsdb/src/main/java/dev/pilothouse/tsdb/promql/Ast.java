package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Matcher;
import java.util.List;

/** The PromQL syntax tree. */
public final class Ast {
  private Ast() {}

  /** What an expression evaluates to. */
  public enum Type {
    SCALAR,
    VECTOR,
    MATRIX,
    STRING;

    String describe() {
      return switch (this) {
        case SCALAR -> "scalar";
        case VECTOR -> "instant vector";
        case MATRIX -> "range vector";
        case STRING -> "string";
      };
    }
  }

  /** An expression. */
  public sealed interface Expr
      permits NumberLit,
          StringLit,
          VectorSelector,
          MatrixSelector,
          Subquery,
          Call,
          Aggregate,
          Binary,
          Unary,
          Paren {
    Type type();
  }

  public record NumberLit(double value) implements Expr {
    @Override
    public Type type() {
      return Type.SCALAR;
    }
  }

  public record StringLit(String value) implements Expr {
    @Override
    public Type type() {
      return Type.STRING;
    }
  }

  /**
   * A time modifier: an offset and an optional fixed evaluation time ({@code @}).
   *
   * @param at fixed time in ms, or null; atStart/atEnd for {@code @ start()} / {@code @ end()}
   */
  public record Time(long offsetMs, Long at, boolean atStart, boolean atEnd) {
    static final Time NONE = new Time(0, null, false, false);

    boolean hasAt() {
      return at != null || atStart || atEnd;
    }
  }

  public record VectorSelector(String name, List<Matcher> matchers, Time time) implements Expr {
    @Override
    public Type type() {
      return Type.VECTOR;
    }
  }

  public record MatrixSelector(VectorSelector selector, long rangeMs) implements Expr {
    @Override
    public Type type() {
      return Type.MATRIX;
    }
  }

  /** {@code expr[range:step]}; step 0 means the query's default step. */
  public record Subquery(Expr expr, long rangeMs, long stepMs, Time time) implements Expr {
    @Override
    public Type type() {
      return Type.MATRIX;
    }
  }

  public record Call(Functions.Def func, List<Expr> args) implements Expr {
    @Override
    public Type type() {
      return func.returns();
    }
  }

  /**
   * An aggregation.
   *
   * @param param the k of topk/bottomk, φ of quantile, label of count_values; else null
   */
  public record Aggregate(String op, Expr expr, Expr param, List<String> grouping, boolean without)
      implements Expr {
    @Override
    public Type type() {
      return Type.VECTOR;
    }
  }

  /**
   * How the two sides of a vector binary operation are matched.
   *
   * @param card one-to-one, many-to-one (group_left) or one-to-many (group_right)
   * @param on true for on(...), false for ignoring(...)
   * @param include labels copied from the "one" side with group_left/right
   */
  public record Matching(Card card, List<String> labels, boolean on, List<String> include) {
    /** The cardinality of a match. */
    public enum Card {
      ONE_TO_ONE,
      MANY_TO_ONE,
      ONE_TO_MANY,
      MANY_TO_MANY
    }
  }

  public record Binary(String op, Expr lhs, Expr rhs, boolean returnBool, Matching matching)
      implements Expr {
    @Override
    public Type type() {
      return lhs.type() == Type.SCALAR && rhs.type() == Type.SCALAR ? Type.SCALAR : Type.VECTOR;
    }
  }

  public record Unary(String op, Expr expr) implements Expr {
    @Override
    public Type type() {
      return expr.type();
    }
  }

  public record Paren(Expr expr) implements Expr {
    @Override
    public Type type() {
      return expr.type();
    }
  }
}
