package dev.pilothouse.core.alerting.template;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An alert template in Go's text/template syntax, as Prometheus expands annotations and alert
 * labels: {@code $labels}, {@code $value}, {@code $externalLabels}, {@code $externalURL} (and
 * {@code .Labels}, {@code .Value}, …), pipelines, {@code if}/{@code range}/{@code with}, Go's
 * built-ins and Prometheus's functions ({@code humanize}, {@code humanizeDuration}, {@code printf},
 * {@code query}, …). {@code define} and {@code template} are refused.
 */
public final class Template {
  /** A sample of a query a template runs. */
  public record Sample(Map<String, String> labels, double value) {}

  /** Runs the PromQL of a template's {@code query} function. */
  @FunctionalInterface
  public interface Query {
    List<Sample> query(String promql);
  }

  private final String name;
  private final List<Tree.Node> body;

  private Template(String name, List<Tree.Node> body) {
    this.name = name;
    this.body = body;
  }

  /**
   * Parses a template.
   *
   * @param name shown in error messages (Prometheus uses {@code __alert_NAME})
   * @throws TemplateException naming the line and what is wrong
   */
  public static Template parse(String name, String text) {
    requireNonNull(name, "name");
    requireNonNull(text, "text");
    try {
      return new Template(name, new Parser(text, Functions.NAMES).parse());
    } catch (TemplateException e) {
      throw new TemplateException("template: " + name + ":" + e.getMessage());
    }
  }

  /** What is wrong with a template's syntax, or null when it parses. */
  public static String problem(String text) {
    try {
      new Parser(text, Functions.NAMES).parse();
      return null;
    } catch (TemplateException e) {
      return e.getMessage();
    }
  }

  /**
   * Expands the template for one alert.
   *
   * @param query runs the template's {@code query} calls; null when none may run
   * @throws TemplateException when a function fails or a field cannot be read
   */
  public String expand(
      Map<String, String> labels,
      double value,
      Map<String, String> externalLabels,
      String externalUrl,
      Query query) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("Labels", Map.copyOf(labels));
    data.put("ExternalLabels", Map.copyOf(externalLabels));
    data.put("ExternalURL", externalUrl);
    data.put("Value", value);
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("$", data);
    vars.put("$labels", data.get("Labels"));
    vars.put("$externalLabels", data.get("ExternalLabels"));
    vars.put("$externalURL", externalUrl);
    vars.put("$value", value);
    try {
      return new Exec(new Functions(query, externalUrl), vars).run(body, data);
    } catch (TemplateException e) {
      throw new TemplateException("template: " + name + ":" + e.getMessage());
    }
  }

  /** A value as Prometheus's API writes an alert's value ({@code 1e+00}, {@code 1.2345e+03}). */
  public static String apiValue(double v) {
    return GoFormat.shortestE(v);
  }

  /**
   * The value of a Go double-quoted string literal (with its quotes).
   *
   * @throws IllegalArgumentException when it is not one
   */
  public static String unquote(String literal) {
    if (literal.length() < 2 || !literal.startsWith("\"") || !literal.endsWith("\"")) {
      throw new IllegalArgumentException("not a quoted string: " + literal);
    }
    try {
      return Exec.unquote(literal, () -> new TemplateException("bad escape in " + literal));
    } catch (TemplateException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** A Prometheus duration (as in rule files: 1y2w3d4h5m6s7ms) in milliseconds; -1 if invalid. */
  public static long durationMs(String text) {
    return Humanize.durationMs(text);
  }
}
