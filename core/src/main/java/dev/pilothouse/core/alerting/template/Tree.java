package dev.pilothouse.core.alerting.template;

import java.util.List;

/** A parsed template: text and actions as Go's text/template parses them. */
final class Tree {
  private Tree() {}

  /** A node of the template's body. */
  sealed interface Node {}

  record Text(String text) implements Node {}

  /** {{pipeline}}: the value is printed unless the pipeline declares a variable. */
  record Action(Pipe pipe, int line) implements Node {}

  /** {{if}} {{else}} {{end}}; else if is a nested If in otherwise. */
  record If(Pipe cond, List<Node> then, List<Node> otherwise, int line) implements Node {}

  /** {{range [$k, $v :=] pipeline}} … {{else}} … {{end}}. */
  record Range(Pipe pipe, List<Node> body, List<Node> otherwise, int line) implements Node {}

  /** {{with pipeline}} … {{else}} … {{end}}: dot is the value inside. */
  record With(Pipe pipe, List<Node> body, List<Node> otherwise, int line) implements Node {}

  /**
   * Commands joined by '|', each one's value passed as the next one's last argument.
   *
   * @param vars variables declared ({@code $x :=}) or assigned ({@code $x =}); empty for none
   */
  record Pipe(List<String> vars, boolean assign, List<Cmd> cmds) {}

  /** A function with its arguments, or one operand. */
  record Cmd(List<Arg> args) {}

  /** An operand. */
  sealed interface Arg {}

  /** {@code .A.B} (an empty path is dot itself). */
  record Field(List<String> path) implements Arg {}

  /** {@code $x.A.B}. */
  record Var(String name, List<String> path) implements Arg {}

  /** A function name. */
  record Func(String name) implements Arg {}

  /** A string, number or boolean. */
  record Literal(Object value) implements Arg {}

  /** {@code (pipeline).A.B}. */
  record Sub(Pipe pipe, List<String> path) implements Arg {}
}
