package dev.pilothouse.cost;

/** A bill, a file or a request the ledger cannot take: what is wrong, and how to fix it. */
public final class BillException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String hint;

  public BillException(String message, String hint) {
    super(message);
    this.hint = hint;
  }

  public String hint() {
    return hint;
  }
}
