package dev.pilothouse.spec;

import dev.pilothouse.core.spec.NotificationsSpec;
import java.util.List;
import java.util.Optional;

/** The {@code notifications:} section. */
final class NotificationsReader extends SectionReader {
  NotificationsReader(SectionReader parent) {
    super(parent);
  }

  NotificationsSpec notifications(Fields f) {
    List<String> webhooks = urls(f, "webhooks");
    List<String> slack = urls(f, "slack");
    String smtp = "";
    String from = "";
    List<String> to = List.of();
    Optional<Fields> email = f.object("email", EMAIL);
    if (email.isPresent()) {
      Fields e = email.get();
      smtp =
          e.require("smtp", "give the SMTP server as host:port")
              .flatMap(n -> e.string("smtp"))
              .orElse("");
      if (!smtp.isEmpty() && !smtp.matches("[A-Za-z0-9.\\-]+:\\d{1,5}")) {
        problems.at(
            e.get("smtp").orElseThrow(),
            e.join("smtp"),
            "invalid SMTP server '" + smtp + "'",
            "write host:port, e.g. localhost:25");
      }
      from = e.string("from").orElse("pilothouse@localhost");
      to = e.strings("to").orElse(List.of());
      if (to.isEmpty()) {
        problems.at(
            e.node(),
            e.join("to"),
            "email needs at least one recipient",
            "write e.g. 'to: [oncall@example.com]'");
      }
    }
    List<String> events = f.strings("events").orElse(List.of());
    return new NotificationsSpec(webhooks, slack, smtp, from, to, events);
  }
}
