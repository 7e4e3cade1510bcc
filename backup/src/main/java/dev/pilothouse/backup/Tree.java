package dev.pilothouse.backup;

import java.util.List;

/** A directory in a snapshot: its entries sorted by name. Stored as a blob of type tree. */
public record Tree(List<Node> nodes) {}
