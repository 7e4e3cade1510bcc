package dev.pilothouse.client;

/** Sample values as Prometheus's query API writes them: decimal strings, "+Inf", "-Inf", "NaN". */
public final class PromFloat {
  private PromFloat() {}

  /** The value of a sample string; NumberFormatException for anything else. */
  public static double parse(String s) {
    return switch (s) {
      case "NaN", "nan" -> Double.NaN;
      case "+Inf", "Inf", "+inf", "inf" -> Double.POSITIVE_INFINITY;
      case "-Inf", "-inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(s);
    };
  }
}
