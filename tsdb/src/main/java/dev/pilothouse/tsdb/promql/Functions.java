package dev.pilothouse.tsdb.promql;

import static dev.pilothouse.tsdb.promql.Ast.Type.MATRIX;
import static dev.pilothouse.tsdb.promql.Ast.Type.SCALAR;
import static dev.pilothouse.tsdb.promql.Ast.Type.STRING;
import static dev.pilothouse.tsdb.promql.Ast.Type.VECTOR;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The signatures of PromQL's functions. */
public final class Functions {
  private Functions() {}

  /**
   * A function's signature.
   *
   * @param optional how many trailing arguments may be left out (-1: the last repeats)
   */
  public record Def(String name, List<Ast.Type> args, int optional, Ast.Type returns) {
    boolean variadic() {
      return optional < 0;
    }
  }

  static final Map<String, Def> ALL = new HashMap<>();

  private static void def(String name, Ast.Type returns, int optional, Ast.Type... args) {
    ALL.put(name, new Def(name, List.of(args), optional, returns));
  }

  static {
    for (String f :
        List.of(
            "abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "sgn", "acos", "acosh",
            "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg",
            "rad")) {
      def(f, VECTOR, 0, VECTOR);
    }
    for (String f :
        List.of(
            "rate",
            "irate",
            "increase",
            "delta",
            "idelta",
            "deriv",
            "resets",
            "changes",
            "avg_over_time",
            "min_over_time",
            "max_over_time",
            "sum_over_time",
            "count_over_time",
            "last_over_time",
            "stddev_over_time",
            "stdvar_over_time",
            "present_over_time",
            "absent_over_time")) {
      def(f, VECTOR, 0, MATRIX);
    }
    for (String f :
        List.of(
            "day_of_month",
            "day_of_week",
            "day_of_year",
            "days_in_month",
            "hour",
            "minute",
            "month",
            "year")) {
      def(f, VECTOR, 1, VECTOR);
    }
    def("quantile_over_time", VECTOR, 0, SCALAR, MATRIX);
    def("predict_linear", VECTOR, 0, MATRIX, SCALAR);
    def("histogram_quantile", VECTOR, 0, SCALAR, VECTOR);
    def("round", VECTOR, 1, VECTOR, SCALAR);
    def("clamp", VECTOR, 0, VECTOR, SCALAR, SCALAR);
    def("clamp_min", VECTOR, 0, VECTOR, SCALAR);
    def("clamp_max", VECTOR, 0, VECTOR, SCALAR);
    def("absent", VECTOR, 0, VECTOR);
    def("time", SCALAR, 0);
    def("pi", SCALAR, 0);
    def("timestamp", VECTOR, 0, VECTOR);
    def("vector", VECTOR, 0, SCALAR);
    def("scalar", SCALAR, 0, VECTOR);
    def("sort", VECTOR, 0, VECTOR);
    def("sort_desc", VECTOR, 0, VECTOR);
    def("label_replace", VECTOR, 0, VECTOR, STRING, STRING, STRING, STRING);
    def("label_join", VECTOR, -1, VECTOR, STRING, STRING, STRING);
  }

  static Def get(String name) {
    return ALL.get(name);
  }
}
