package dev.pilothouse.core.instance;

import java.time.Instant;

/** One instance as the controller tracks it (mutable, owned by the controller's tick). */
final class Instance {
  final String id;
  final String service;
  final int slot;
  final String template;
  final RunningProcess process;
  final int port;
  final Instant startedAt;
  final int restarts;
  InstanceState state;
  boolean ready;
  boolean everReady;
  final ProbeState liveness = new ProbeState();
  final ProbeState readiness = new ProbeState();
  Instant stopDeadline;
  boolean killSent;
  String stopReason = "";
  boolean stopCountsAsFailure;

  Instance(
      String id,
      String service,
      int slot,
      String template,
      RunningProcess process,
      int port,
      Instant startedAt,
      int restarts,
      InstanceState state) {
    this.id = id;
    this.service = service;
    this.slot = slot;
    this.template = template;
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
        restarts);
  }

  InstanceStatus status() {
    return new InstanceStatus(
        id, service, slot, process.pid(), port, state.wire(), ready, startedAt, restarts, template);
  }
}
