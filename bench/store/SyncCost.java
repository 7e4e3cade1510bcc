import java.sql.*;
/** Cost of SQLite synchronous=FULL vs NORMAL per committed insert (WAL mode), as the store runs it. */
public class SyncCost {
  public static void main(String[] a) throws Exception {
    for (String mode : new String[]{"NORMAL","FULL","NORMAL","FULL"}) {
      java.nio.file.Path f = java.nio.file.Files.createTempFile(java.nio.file.Path.of(a.length > 0 ? a[0] : "."), "b", ".db");
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f)) {
        try (Statement s = c.createStatement()) {
          s.execute("PRAGMA journal_mode=WAL"); s.execute("PRAGMA synchronous=" + mode);
          s.execute("create table e(seq integer primary key, body text)");
        }
        int n = 2000;
        long t0 = System.nanoTime();
        try (PreparedStatement p = c.prepareStatement("insert into e(body) values (?)")) {
          for (int i = 0; i < n; i++) { p.setString(1, "event " + i + " ".repeat(200)); p.executeUpdate(); }
        }
        double us = (System.nanoTime() - t0) / 1e3 / n;
        System.out.printf("%s: %.0f us per committed insert%n", mode, us);
      }
      java.nio.file.Files.delete(f);
    }
  }
}
