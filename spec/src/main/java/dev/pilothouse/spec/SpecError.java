package dev.pilothouse.spec;

/**
 * One problem in a spec file, with where it is, what is wrong and how to fix it.
 *
 * @param path the field path, such as {@code services.shop.replicas}
 * @param hint how to fix it; may be empty
 */
public record SpecError(
    String file, int line, int column, String path, String message, String hint) {

  /** {@code file:line:column: path: message (hint)}. */
  @Override
  public String toString() {
    String where = file + ":" + line + ":" + column + ": ";
    String p = path.isEmpty() ? "" : path + ": ";
    return where + p + message + (hint.isEmpty() ? "" : " (" + hint + ")");
  }
}
