package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import java.util.List;

/** Query results, as the Prometheus HTTP API types them. */
public sealed interface Value {
  /** One element of an instant vector; t is the sample's own time (for timestamp()). */
  record Sample(Labels labels, double v, long t) {}

  /** A series of a range result. */
  record Points(Labels labels, long[] t, double[] v) {}

  record Scalar(long t, double v) implements Value {}

  record Str(long t, String v) implements Value {}

  record Vector(List<Sample> samples) implements Value {}

  record Matrix(List<Points> series) implements Value {}

  /**
   * A value as Prometheus and exporters write it: "NaN", "+Inf", "Inf", "-Inf" (any case of "inf"
   * and "nan" as Go's ParseFloat takes them), or a number.
   *
   * @throws NumberFormatException for anything else
   */
  static double parseFloat(String s) {
    return switch (s) {
      case "NaN", "nan" -> Double.NaN;
      case "+Inf", "Inf", "+inf", "inf" -> Double.POSITIVE_INFINITY;
      case "-Inf", "-inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(s);
    };
  }

  /** A value as Prometheus writes it: Go's strconv.FormatFloat(v, 'f', -1, 64), "+Inf", "NaN". */
  static String formatFloat(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == 0) {
      return (1 / v) < 0 ? "-0" : "0";
    }
    return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }

  /** "scalar", "string", "vector" or "matrix". */
  default String resultType() {
    return switch (this) {
      case Scalar s -> "scalar";
      case Str s -> "string";
      case Vector v -> "vector";
      case Matrix m -> "matrix";
    };
  }
}
