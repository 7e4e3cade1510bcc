package dev.pilothouse.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address block such as 10.0.0.0/8 or ::1/128; a plain address is a block of one. */
record Cidr(byte[] network, int bits) {
  static Cidr parse(String text) {
    String t = text.trim();
    int slash = t.indexOf('/');
    String addr = slash < 0 ? t : t.substring(0, slash);
    if (!addr.matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException(
          "trusted proxy '" + text + "' is not an IP address or CIDR block (e.g. 10.0.0.0/8)");
    }
    byte[] net;
    try {
      net = InetAddress.getByName(addr).getAddress(); // a literal: no lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("trusted proxy '" + text + "' is not an IP address", e);
    }
    int max = net.length * 8;
    int bits;
    try {
      bits = slash < 0 ? max : Integer.parseInt(t.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("trusted proxy '" + text + "' has a bad prefix length", e);
    }
    if (bits < 0 || bits > max) {
      throw new IllegalArgumentException(
          "trusted proxy '" + text + "': prefix length must be 0.." + max);
    }
    return new Cidr(net, bits);
  }

  boolean contains(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length != network.length) {
      return false;
    }
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (b[i] != network[i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = 0xFF << (8 - rest);
    return (b[full] & mask) == (network[full] & mask);
  }
}
