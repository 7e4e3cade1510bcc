package dev.pilothouse.spec;

import java.util.LinkedHashMap;
import java.util.List;

/** A YAML node with the position where it starts. */
sealed interface Node {
  int line();

  int column();

  /** A kind name for messages: "a map", "a list", "a string" … */
  String kind();

  /** A mapping whose keys are kept in order with their own positions. */
  record MapNode(int line, int column, LinkedHashMap<String, Entry> entries) implements Node {
    @Override
    public String kind() {
      return "a map";
    }
  }

  /** One key of a mapping. */
  record Entry(String key, int line, int column, Node value) {}

  /** A sequence. */
  record ListNode(int line, int column, List<Node> items) implements Node {
    @Override
    public String kind() {
      return "a list";
    }
  }

  /**
   * A scalar.
   *
   * @param type STRING, INT, FLOAT, BOOL or NULL as YAML resolved it
   */
  record Scalar(int line, int column, String text, Type type) implements Node {
    /** How YAML resolved the scalar. */
    enum Type {
      STRING,
      INT,
      FLOAT,
      BOOL,
      NULL
    }

    @Override
    public String kind() {
      return switch (type) {
        case STRING -> "a string";
        case INT -> "a whole number";
        case FLOAT -> "a number";
        case BOOL -> "true/false";
        case NULL -> "empty";
      };
    }
  }
}
