package dev.pilothouse.core.instance;

import java.time.Instant;

/** One instance as the controller tracks it (mutable, owned by the controller's tick). */
final class Instance {
  final String id;
  final String service;
  int slot;
  String template;
  final String version;
  final RunningProcess process;
  final int port;
  final Instant startedAt;
  final int restarts;
  InstanceState state;
  boolean ready;
  boolean everReady;
  final ProbeState liveness = new ProbeState();
  final ProbeState readiness = new ProbeState();
  Instant stopRequestedAt;
  Instant drainUntil;
  Instant stopDeadline;
  boolean signalSent;
  boolean killSent;
  String stopReason = "";
  boolean stopCountsAsFailure;
  Instant quarantineUntil;

  Instance(
      String id,
      String service,
      int slot,
      String template,
      String version,
      RunningProcess process,
      int port,
      Instant startedAt,
      int restarts,
      InstanceState state) {
    this.id = id;
    this.service = service;
    this.slot = slot;
    this.template = template;
    this.version = version;
    this.process = process;
    this.port = port;
    this.startedAt = startedAt;
    this.restarts = restarts;
    this.state = state;
  }

  InstanceRecord record() {
    return new InstanceRecord(
        id,
        service,
        slot,
        template,
        process.pid(),
        process.startTicks(),
        port,
        state.wire(),
        ready,
        startedAt,
        restarts,
        version);
  }

  InstanceStatus status() {
    return new InstanceStatus(
        id,
        service,
        slot,
        process.pid(),
        port,
        state.wire(),
        ready,
        startedAt,
        restarts,
        template,
        version);
  }
}
