package dev.pilothouse.spec;

import dev.pilothouse.core.spec.ProxySpec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The {@code proxy:} section: the load balancer's listener. */
final class ProxyReader extends SectionReader {
  ProxyReader(SectionReader parent) {
    super(parent);
  }

  ProxySpec proxy(Fields f) {
    ProxySpec d = ProxySpec.defaults();
    String host = f.string("host").orElse(d.host());
    int port = f.integer("port", 0, 65535).map(Long::intValue).orElse(d.port());
    String cert = "";
    String key = "";
    Optional<Fields> tls = f.object("tls", TLS);
    if (tls.isPresent()) {
      cert = file(tls.get(), "cert");
      key = file(tls.get(), "key");
    }
    Duration idle = duration(f, "idleTimeout", d.idleTimeout(), false);
    double sample = d.accessLogSample();
    long maxSize = d.accessLogMaxSize();
    int keep = d.accessLogKeep();
    Optional<Node> al = f.get("accessLog");
    if (al.isPresent()) {
      if (al.get() instanceof Node.Scalar sc && sc.type() == Node.Scalar.Type.BOOL) {
        sample = f.bool("accessLog").orElse(true) ? 1.0 : 0.0;
      } else {
        Optional<Fields> a = f.object("accessLog", ACCESS_LOG);
        sample = a.flatMap(x -> x.number("sample", 0.0, 1.0, true)).orElse(1.0);
        if (a.isPresent()) {
          maxSize = memoryField(a.get(), "maxSize", maxSize);
          if (maxSize < 4096) {
            problems.at(
                a.get().get("maxSize").orElseThrow(),
                a.get().join("maxSize"),
                "must be at least 4Ki",
                "write e.g. 100Mi");
            maxSize = d.accessLogMaxSize();
          }
          keep = a.get().integer("keep", 1, 1000).map(Long::intValue).orElse(keep);
        }
      }
    }
    List<String> trusted = f.strings("trustedProxies").orElse(List.of());
    for (int i = 0; i < trusted.size(); i++) {
      String t = trusted.get(i);
      if (!t.matches("[0-9a-fA-F:.]+(/\\d{1,3})?")) {
        problems.at(
            f.get("trustedProxies").orElseThrow(),
            f.join("trustedProxies") + "[" + i + "]",
            "'" + t + "' is not an IP address or CIDR block",
            "write e.g. 10.0.0.0/8 or 192.168.1.10");
      }
    }
    Duration body = duration(f, "bodyTimeout", d.bodyTimeout(), false);
    return new ProxySpec(host, port, cert, key, idle, sample, maxSize, keep, trusted, body);
  }
}
