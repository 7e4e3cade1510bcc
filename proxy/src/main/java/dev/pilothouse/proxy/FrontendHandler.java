package dev.pilothouse.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One client connection. Serves one request at a time: routes it, picks an instance, streams the
 * request to it over a pooled connection on the same event loop, streams the response back, and
 * retries on another instance where that is safe.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {
  private final NettyDataPlane dp;
  private final boolean tls;
  private final UpstreamPool pool;
  private final Sweeper sweeper;
  private ChannelHandlerContext ctx;
  private String clientIp = "";

  // the access log's fields that repeat from request to request, as JSON, kept while they repeat
  private String clientJson = ",\"client\":\"\"";
  private Route loggedRoute;
  private String routeJson = "";
  private Backend loggedBackend;
  private boolean loggedSent;
  private String backendJson = "";

  /** The traceparent this exchange's request went on with, or null before it went. */
  private io.netty.util.AsciiString traceparent;

  private io.netty.util.AsciiString clientIpAscii = io.netty.util.AsciiString.EMPTY_STRING;
  private final ArrayDeque<Object> queued = new ArrayDeque<>();
  private static final int MAX_QUEUED = 64;

  // the exchange in progress
  private boolean active;
  private List<Long> callersAsked; // the sessions fromCallers last answered for
  private boolean callersMatched;
  private boolean blackholed; // a partition swallowed this connection: nothing more is read
  private HttpRequest request;
  private String method;
  private String path;
  private boolean keepAlive;
  private boolean idempotent;
  private boolean bodyless;

  /** Whether the request's body is chunked (it goes on chunked to the instance). */
  private boolean chunkedRequest;

  private Route route;
  private RouteTable table;
  private BackendGroup group;

  /** The group to remember in the sticky cookie of this response, or null. */
  private String stickyGroup;

  /** The group the daemon's preview header chose (a smoke test's request), or null. */
  private String previewGroup;

  private ClusterState cluster;
  private int attempts;
  private int attemptId;
  private Backend backend;
  private Backend tried1;
  private Backend tried2;
  private BackendState bstate;
  private Series series;
  private UpstreamHandler upstream;
  private final List<HttpContent> buffered = new ArrayList<>(2);
  private boolean requestComplete;
  private boolean requestWritten;
  private boolean bodySent;
  private boolean responseStarted;
  private boolean upstreamKeepAlive;

  /** Whether this response's body is chunked by the proxy (it ends when the instance closes). */
  private boolean chunkBody;

  private boolean discardBody;
  private boolean retrying;
  private boolean holding;
  private long holdUntilNanos;
  private int status;
  private long startNanos;
  private long attemptNanos;
  private long deadlineNanos;
  private long lastActivityNanos;

  /** When the client last sent a byte of the request (body timeout). */
  private long lastClientReadNanos;

  /** When the instance last sent a byte of the response (body timeout). */
  private long lastUpstreamNanos;

  /** Whether the client is a trusted proxy, whose X-Forwarded-* headers are kept. */
  private boolean trustedPeer;

  /** Why the proxy answered by itself or cut the exchange (access log), or empty. */
  private String reason = "";

  /** Whether this exchange's request went out to an instance (the access log names it then). */
  private boolean sentToInstance;

  /** Whether the client shut its sending side down (half-close): close once answered. */
  private boolean inputClosed;

  /** Whether this exchange has its access-log line. */
  private boolean logged;

  FrontendHandler(NettyDataPlane dp, boolean tls, UpstreamPool pool, Sweeper sweeper) {
    this.dp = dp;
    this.tls = tls;
    this.pool = pool;
    this.sweeper = sweeper;
  }

  /** Called by the sweeper: fails a request past its deadline, closes an idle connection. */
  void sweep(long now, long idleNanos) {
    long bodyNanos = dp.bodyTimeoutNanos();
    if (deadlineNanos != 0 && now - deadlineNanos >= 0) {
      deadlineNanos = 0;
      onTimeout();
    } else if (!active && now - lastActivityNanos > idleNanos) {
      ctx.close();
    } else if (active && !requestComplete && now - lastClientReadNanos > bodyNanos) {
      onRequestBodyTimeout(bodyNanos);
    } else if (active
        && responseStarted
        && upstream != null
        && now - lastUpstreamNanos > bodyNanos) {
      reason =
          "response body timed out: "
              + (ctx.channel().isWritable()
                  ? "the instance sent nothing for "
                  : "the client read nothing for ")
              + bodyNanos / 1_000_000
              + "ms";
      completeAccessLog();
      ctx.close(); // the response has begun: closing is the only way to tell the client
    }
  }

  /** The client stopped sending its request body: 408, and both connections close. */
  private void onRequestBodyTimeout(long bodyNanos) {
    String why =
        "request body timed out: the client sent nothing for " + bodyNanos / 1_000_000 + "ms";
    if (responseStarted) {
      reason = why;
      completeAccessLog();
      ctx.close();
      return;
    }
    keepAlive = false;
    respond(408, why);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    lastActivityNanos = dp.ticker.nanoTime();
    sweeper.add(this);
    if (ctx.channel().remoteAddress() instanceof InetSocketAddress a) {
      clientIp = a.getAddress().getHostAddress();
      clientIpAscii = new io.netty.util.AsciiString(clientIp);
      clientJson = AccessLog.json("client", clientIp);
      trustedPeer = dp.trusts(a.getAddress());
    }
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastClientReadNanos = dp.ticker.nanoTime();
    if (blackholed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (active && requestComplete) {
      queued.add(msg); // pipelined: served after the current response
      if (queued.size() > MAX_QUEUED) {
        ctx.channel().config().setAutoRead(false); // a client pipelining far ahead waits
      }
      return;
    }
    if (msg instanceof HttpRequest req) {
      if (active) {
        ReferenceCountUtil.release(msg);
        ctx.close();
        return;
      }
      begin(req);
    }
    if (msg instanceof HttpContent c) {
      if (active) {
        onRequestContent(c);
      } else {
        c.release();
      }
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    UpstreamHandler u = upstream;
    if (u != null) {
      u.channel().flush();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    UpstreamHandler u = upstream;
    if (u != null && ctx.channel().isWritable()) {
      u.channel().config().setAutoRead(true);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    sweeper.remove(this);
    if (active && !logged) {
      // The client went away mid-exchange: still logged, so that every request an instance saw
      // has its line.
      reason = "client closed the connection before the response ended";
      completeAccessLog();
    }
    if (active) {
      UpstreamHandler u = upstream;
      upstream = null;
      if (u != null) {
        u.attach(null);
        u.channel().close();
        endAttempt(0);
      }
      finish();
    }
    while (!queued.isEmpty()) {
      ReferenceCountUtil.release(queued.poll());
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
      // The client sent all it will send: answer the requests it completed, then close.
      inputClosed = true;
      if (active ? !requestComplete : queued.isEmpty()) {
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  // ---- request

  private void begin(HttpRequest req) {
    active = true;
    request = req;
    startNanos = dp.ticker.nanoTime();
    attempts = 0;
    tried1 = null;
    tried2 = null;
    requestComplete = false;
    requestWritten = false;
    bodySent = false;
    responseStarted = false;
    discardBody = false;
    retrying = false;
    status = 0;
    reason = "";
    sentToInstance = false;
    traceparent = null;
    logged = false;
    group = null;
    cluster = null;
    keepAlive = HttpUtil.isKeepAlive(req);
    if (req.decoderResult().isFailure()) {
      keepAlive = false;
      route = null;
      respond(400, "bad request: " + req.decoderResult().cause().getMessage());
      return;
    }
    String bad = Headers.invalid(req.headers());
    if (bad != null) {
      keepAlive = false;
      route = null;
      respond(400, "bad request: invalid header '" + bad + "'");
      return;
    }
    String te = Headers.badTransferEncoding(req.headers(), req.protocolVersion());
    if (te != null) {
      keepAlive = false;
      route = null;
      respond(400, "bad request: " + te);
      return;
    }
    if (HttpUtil.is100ContinueExpected(req)) {
      req.headers().remove(HttpHeaderNames.EXPECT);
      ctx.writeAndFlush(CONTINUE.duplicate(), ctx.voidPromise());
    }
    method = req.method().name();
    String uri = req.uri();
    int q = uri.indexOf('?');
    path = q < 0 ? uri : uri.substring(0, q);
    idempotent = Headers.idempotent(method);
    chunkedRequest = HttpUtil.isTransferEncodingChunked(req);
    bodyless = !chunkedRequest && HttpUtil.getContentLength(req, 0L) == 0;
    table = dp.table();
    route = table.match(req.headers().get(HttpHeaderNames.HOST), path);
    if (route == null) {
      respond(404, "no route for " + path);
      return;
    }
    cluster = dp.cluster(route.name());
    RoutePolicy policy = route.policy();
    long waitNanos = dp.rateLimit(route);
    if (waitNanos > 0) {
      long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos + 999_999_999L));
      respond(
          429,
          "rate limit of route " + route.name() + " exceeded",
          "retry-after",
          Long.toString(seconds));
      return;
    }
    RoutePolicy.Fault fault = policy.fault();
    if (fault.active()
        && (fault.header().isEmpty() || req.headers().contains(fault.header()))
        && (fault.callers().isEmpty() || fromCallers(fault.callers()))) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      if (fault.abortPercent() > 0 && r.nextDouble() * 100 < fault.abortPercent()) {
        if (fault.silent()) {
          blackhole(policy.requestTimeout());
          return;
        }
        respond(fault.abortStatus(), "fault injected");
        return;
      }
      if (fault.delayPercent() > 0 && r.nextDouble() * 100 < fault.delayPercent()) {
        ctx.channel().config().setAutoRead(false);
        int id = attemptId;
        ctx.executor()
            .schedule(
                () -> {
                  if (active && id == attemptId) {
                    prepareAndAttempt();
                  }
                },
                fault.delay().toNanos(),
                TimeUnit.NANOSECONDS);
        return;
      }
    }
    prepareAndAttempt();
  }

  /**
   * Whether this connection comes from one of these sessions' processes; asked once per set (each
   * pushed table decodes to new lists, so the set is compared by value).
   */
  private boolean fromCallers(List<Long> sessions) {
    if (!sessions.equals(callersAsked)) {
      callersAsked = sessions;
      callersMatched =
          ctx.channel().remoteAddress() instanceof InetSocketAddress peer
              && ctx.channel().localAddress() instanceof InetSocketAddress local
              && Callers.from(peer, local, sessions);
    }
    return callersMatched;
  }

  /**
   * A partition's black hole: the request gets no answer and nothing more is read; the connection
   * closes after the route's request timeout, as a caller's own timeout would end it.
   */
  private void blackhole(java.time.Duration timeout) {
    blackholed = true;
    ctx.channel().config().setAutoRead(false);
    responseStarted = true;
    keepAlive = false;
    reason = "partition: no answer";
    completeAccessLog();
    ctx.executor().schedule(() -> ctx.close(), timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void prepareAndAttempt() {
    if (route.stripPrefix() && route.pathPrefix().length() > 1) {
      String uri = request.uri();
      String rest = uri.substring(Math.min(uri.length(), route.pathPrefix().length()));
      request.setUri(rest.isEmpty() || rest.charAt(0) != '/' ? "/" + rest : rest);
    }
    Headers.removeHopByHop(request.headers());
    traceparent = Headers.forward(request.headers(), clientIpAscii, tls, trustedPeer);
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    group = chooseGroup();
    // Honoured (above) only with the daemon's secret value; never passed on to an instance.
    request.headers().remove(Headers.PREVIEW);
    if (group != null
        && bodyless
        && !route.mirror().isEmpty()
        && !route.mirror().equals(group.name())
        && (route.mirrorPercent() >= 100
            || java.util.concurrent.ThreadLocalRandom.current().nextInt(100)
                < route.mirrorPercent())) {
      dp.mirror(table, route, request, ctx.channel().eventLoop());
    }
    if (group != null) {
      cluster.active.incrementAndGet();
    } else if (route.policy().hold().active()) {
      hold();
      return;
    }
    attempt();
  }

  /**
   * No instance is ready: the request waits for one (its route's service is scaled to zero and
   * starting), re-checked every 50 ms against the newest route table, until the hold's timeout.
   */
  private void hold() {
    RoutePolicy.Hold h = route.policy().hold();
    cluster.cold.incrementAndGet();
    if (cluster.held.get() >= h.maxHeld()) {
      respond(
          503,
          "no ready instance for route " + route.name() + " and " + h.maxHeld() + " requests wait",
          "retry-after",
          "5");
      return;
    }
    cluster.held.incrementAndGet();
    holding = true;
    holdUntilNanos = dp.ticker.nanoTime() + h.timeout().toNanos();
    ctx.channel().config().setAutoRead(false);
    scheduleHoldCheck();
  }

  private void scheduleHoldCheck() {
    int id = attemptId;
    ctx.executor()
        .schedule(
            () -> {
              if (active && holding && id == attemptId) {
                checkHold();
              }
            },
            50,
            TimeUnit.MILLISECONDS);
  }

  private void checkHold() {
    RouteTable now = dp.table();
    Route r = now.match(request.headers().get(HttpHeaderNames.HOST), path);
    if (r != null && r.name().equals(route.name())) {
      table = now;
      route = r;
      group = chooseGroup();
    }
    if (group != null) {
      releaseHold();
      cluster.active.incrementAndGet();
      attempt();
      return;
    }
    if (dp.ticker.nanoTime() - holdUntilNanos >= 0) {
      releaseHold();
      respond(
          503,
          "no instance of route " + route.name() + " became ready in time",
          "retry-after",
          "5");
      return;
    }
    scheduleHoldCheck();
  }

  private void releaseHold() {
    if (holding) {
      holding = false;
      cluster.held.decrementAndGet();
    }
  }

  /**
   * The group for this request: a header or cookie match first, then the sticky cookie of an
   * earlier answer, then by weight (remembered in a sticky cookie when the route has one).
   */
  private BackendGroup chooseGroup() {
    stickyGroup = null;
    previewGroup = null;
    String cookies = request.headers().get(HttpHeaderNames.COOKIE);
    for (Match m : route.matches()) {
      String v =
          m.kind() == Match.Kind.HEADER
              ? request.headers().get(m.name())
              : Headers.cookie(cookies, m.name());
      if (v != null && m.test(v)) {
        BackendGroup g = route.group(m.group());
        if (g != null && !g.backends().isEmpty()) {
          if (m.kind() == Match.Kind.HEADER && Headers.PREVIEW.contentEqualsIgnoreCase(m.name())) {
            previewGroup = g.name();
          }
          return g;
        }
      }
    }
    if (!route.hashBy().isEmpty()) {
      String name = route.hashBy().substring(route.hashBy().indexOf(':') + 1);
      String key =
          route.hashBy().startsWith("header:")
              ? request.headers().get(name)
              : Headers.cookie(cookies, name);
      if (key != null && !key.isEmpty()) {
        return chooseWeighted(key);
      }
    }
    if (route.stickyCookie().isEmpty()) {
      return chooseWeighted();
    }
    String seen = Headers.cookie(cookies, route.stickyCookie());
    BackendGroup kept = seen == null ? null : route.group(seen);
    if (kept != null && !kept.backends().isEmpty()) {
      return kept;
    }
    BackendGroup chosen = chooseWeighted();
    if (chosen != null && !chosen.name().equals(seen)) {
      stickyGroup = chosen.name();
    }
    return chosen;
  }

  private BackendGroup chooseWeighted() {
    return chooseWeighted(null);
  }

  /**
   * A group by weight among those with instances: at random, or — given a user key — by a hash of
   * the key, so the same key always lands in the same group while the weights stand.
   */
  private BackendGroup chooseWeighted(String key) {
    List<BackendGroup> groups = route.groups();
    int total = 0;
    for (BackendGroup g : groups) {
      if (!g.backends().isEmpty()) {
        total += g.weight();
      }
    }
    if (total > 0) {
      int x =
          groups.size() == 1
              ? 0
              : key == null
                  ? ThreadLocalRandom.current().nextInt(total)
                  : Math.floorMod(mix(key.hashCode()), total);
      for (BackendGroup g : groups) {
        if (!g.backends().isEmpty()) {
          x -= g.weight();
          if (x < 0) {
            return g;
          }
        }
      }
    }
    for (BackendGroup g : groups) {
      if (!g.backends().isEmpty()) {
        return g; // only zero-weight groups have instances
      }
    }
    return null;
  }

  /** Murmur3's finalizer: spreads String.hashCode (stable across JVMs) over every bit. */
  static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }

  private void attempt() {
    RoutePolicy policy = route.policy();
    if (group == null) {
      respond(503, "no ready instance for route " + route.name());
      return;
    }
    if (cluster.active.get() > policy.maxRequests()) {
      respond(503, "too many requests in flight for route " + route.name());
      return;
    }
    long now = dp.ticker.nanoTime();
    Backend b =
        Balancer.pick(
            group.backends(),
            policy.balancing(),
            policy.balancing() == RoutePolicy.Balancing.ROUND_ROBIN ? table.counter(group) : null,
            dp.states(),
            tried1,
            tried2,
            now);
    if (b == null) {
      respond(503, "no ready instance for route " + route.name());
      return;
    }
    attempts++;
    attemptId++;
    backend = b;
    bstate = dp.state(b);
    series = dp.series(route, b, bstate);
    bstate.active.incrementAndGet();
    series.inFlight.incrementAndGet();
    attemptNanos = now;
    deadlineNanos = now + policy.requestTimeout().toNanos();
    UpstreamHandler u = pool.acquire(b, policy.idleTimeout().toNanos(), now);
    if (u != null) {
      onConnected(u);
      return;
    }
    if (bstate.connections.get() >= policy.maxConnections()) {
      attemptFailed("connection limit of instance " + b.id() + " reached", false);
      return;
    }
    if (cluster.pending.get() >= policy.maxPending()) {
      endAttempt(-1);
      respond(503, "too many pending connections for route " + route.name());
      return;
    }
    cluster.pending.incrementAndGet();
    ctx.channel().config().setAutoRead(false);
    int id = attemptId;
    ChannelFuture f =
        dp.connect(b, bstate, ctx.channel().eventLoop(), pool, policy.connectTimeout());
    f.addListener(
        (ChannelFutureListener)
            done -> {
              cluster.pending.decrementAndGet();
              if (!active || id != attemptId) {
                done.channel().close();
                return;
              }
              if (done.isSuccess()) {
                onConnected(done.channel().pipeline().get(UpstreamHandler.class));
              } else {
                attemptFailed(
                    "cannot connect to instance " + b.id() + ": " + done.cause().getMessage(),
                    false);
              }
            });
  }

  private void onConnected(UpstreamHandler u) {
    upstream = u;
    u.attach(this);
    u.reader.head = method.equals("HEAD");
    RequestWriter.head(u.channel(), request);
    requestWritten = true;
    sentToInstance = true;
    if (!(bodyless && requestComplete && buffered.isEmpty())) {
      for (HttpContent c : buffered) {
        bodySent |= c.content().isReadable();
        RequestWriter.content(u.channel(), c, chunkedRequest);
      }
      buffered.clear();
    }
    u.channel().flush();
    if (!requestComplete) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void onRequestContent(HttpContent c) {
    boolean last = c instanceof LastHttpContent;
    if (last) {
      requestComplete = true;
    }
    if (discardBody) {
      c.release();
      if (last) {
        finish();
        serveQueued();
      }
      return;
    }
    UpstreamHandler u = upstream;
    if (u != null) {
      bodySent |= c.content().isReadable();
      RequestWriter.content(u.channel(), c, chunkedRequest);
      if (last) {
        u.channel().flush();
      } else if (!u.channel().isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    } else if (bodyless && last) {
      c.release(); // rewritten as EMPTY_LAST_CONTENT on each attempt
    } else {
      buffered.add(c);
    }
  }

  void upstreamWritabilityChanged(boolean writable) {
    if (writable && !requestComplete) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  // ---- response

  void onResponseHead(UpstreamHandler u, ResponseReader r) {
    if (u != upstream) {
      return;
    }
    cancelTimeout();
    responseStarted = true;
    lastUpstreamNanos = dp.ticker.nanoTime();
    status = r.status();
    if (status >= 500) {
      dp.failure(route, group, backend, bstate, series); // bstate is still this attempt's
    } else {
      bstate.consecutiveFailures.set(0);
    }
    upstreamKeepAlive = r.keepAlive();
    // A body that ends when the instance closes is chunked for a client that keeps its
    // connection (when nothing else frames it); otherwise it ends when the client's closes too.
    chunkBody = false;
    if (r.framing() == ResponseReader.Framing.UNTIL_CLOSE) {
      if (keepAlive && !r.hasTransferEncoding()) {
        chunkBody = true;
      } else {
        keepAlive = false;
      }
    }
    ByteBuf out = ctx.alloc().buffer(r.headBytes() + 160);
    r.writeHead(out);
    if (chunkBody) {
      out.writeBytes(TRANSFER_ENCODING_CHUNKED);
    }
    if (!keepAlive) {
      out.writeBytes(CONNECTION_CLOSE);
    }
    if (previewGroup != null) {
      // Only a request with the daemon's secret preview value gets here: it learns that the new
      // version answered, not the stable one (the table may not list the new instances yet).
      headerLine(out, Headers.SERVED_BY_PREVIEW, previewGroup);
    }
    if (stickyGroup != null) {
      headerLine(
          out,
          HttpHeaderNames.SET_COOKIE,
          route.stickyCookie() + "=" + stickyGroup + "; Path=/; HttpOnly; SameSite=Lax");
    }
    out.writeShort(CRLF);
    ctx.write(out, ctx.voidPromise());
  }

  void onResponseBody(UpstreamHandler u, ByteBuf part, boolean last) {
    if (u != upstream) {
      part.release();
      return;
    }
    lastUpstreamNanos = dp.ticker.nanoTime();
    if (chunkBody) {
      if (part.isReadable()) {
        RequestWriter.chunk(ctx, ctx.alloc(), part);
      } else {
        part.release();
      }
      if (last) {
        RequestWriter.lastChunk(ctx);
      }
    } else if (part.isReadable()) {
      ctx.write(part, ctx.voidPromise());
    } else {
      part.release();
    }
    if (!last && !ctx.channel().isWritable()) {
      u.channel().config().setAutoRead(false);
    }
    if (last) {
      upstream = null;
      endAttempt(status);
      if (upstreamKeepAlive && requestComplete && u.reader.reusable()) {
        u.release();
      } else {
        u.attach(null);
        u.channel().close();
      }
      completeDownstream();
    }
  }

  private static void headerLine(ByteBuf out, CharSequence name, CharSequence value) {
    out.writeCharSequence(name, StandardCharsets.ISO_8859_1);
    out.writeByte(':');
    out.writeByte(' ');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      // never a line break into the head; other characters beyond Latin-1 as '?'
      out.writeByte(c == '\r' || c == '\n' || c > 0xff ? '?' : c);
    }
    out.writeShort(CRLF);
  }

  private static final short CRLF = ('\r' << 8) | '\n';
  private static final byte[] TRANSFER_ENCODING_CHUNKED =
      "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONNECTION_CLOSE =
      "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final ByteBuf CONTINUE =
      Unpooled.unreleasableBuffer(
          Unpooled.wrappedBuffer(
                  "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII))
              .asReadOnly());

  void flushDownstream() {
    ctx.flush();
  }

  // ---- failures

  void onUpstreamFailure(UpstreamHandler u, String reason, boolean timedOut) {
    if (u != upstream) {
      return;
    }
    upstream = null;
    u.attach(null);
    u.channel().close();
    attemptFailed(reason, timedOut);
  }

  private void onTimeout() {
    if (!active || responseStarted) {
      return;
    }
    UpstreamHandler u = upstream;
    if (u != null) {
      onUpstreamFailure(
          u,
          "instance "
              + backend.id()
              + " did not answer within "
              + route.policy().requestTimeout().toMillis()
              + "ms",
          true);
    } else {
      attemptId++; // a connect still under way is abandoned
      attemptFailed("connecting to instance " + backend.id() + " timed out", true);
    }
  }

  private void attemptFailed(String reason, boolean timedOut) {
    cancelTimeout();
    boolean reached = requestWritten;
    BackendState failed = bstate;
    endAttempt(0);
    dp.failure(route, group, backend, failed, series);
    if (responseStarted) {
      ctx.close();
      return;
    }
    boolean safe = (!reached && !bodySent) || (idempotent && bodyless);
    RoutePolicy p = route.policy();
    if (safe && attempts <= p.retries() && cluster.retryAllowed(p.retryBudget(), p.minRetries())) {
      tried2 = tried1;
      tried1 = backend;
      requestWritten = false;
      if (!retrying) {
        retrying = true;
        cluster.retries.incrementAndGet();
      }
      series.retries.increment();
      attempt();
      return;
    }
    respond(timedOut ? 504 : 502, reason);
  }

  /** Ends the current attempt's accounting; status 0 records a transport error, -1 nothing. */
  private void endAttempt(int code) {
    if (bstate == null) {
      return;
    }
    bstate.active.decrementAndGet();
    series.inFlight.decrementAndGet();
    if (code >= 0) {
      long now = dp.ticker.nanoTime();
      series.record(code, (now - attemptNanos) / 1000, now);
    }
    bstate = null;
  }

  // ---- completion

  private void respond(int code, String message) {
    respond(code, message, null, null);
  }

  private void respond(int code, String message, String header, String value) {
    cancelTimeout();
    if (responseStarted) {
      ctx.close();
      return;
    }
    status = code;
    responseStarted = true;
    reason = message;
    if (!requestComplete) {
      keepAlive = false; // the rest of the request body is not read
    }
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuf out = ctx.alloc().buffer(body.length + message.length() + 200);
    out.writeCharSequence("HTTP/1.1 ", StandardCharsets.US_ASCII);
    out.writeCharSequence(HttpResponseStatus.valueOf(code).toString(), StandardCharsets.US_ASCII);
    out.writeShort(CRLF);
    headerLine(out, HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    headerLine(out, HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length));
    headerLine(
        out, "x-pilothouse-reason", message.length() > 200 ? message.substring(0, 200) : message);
    if (header != null) {
      headerLine(out, header, value);
    }
    if (!keepAlive) {
      out.writeBytes(CONNECTION_CLOSE);
    }
    out.writeShort(CRLF);
    out.writeBytes(body);
    if (route != null) {
      long now = dp.ticker.nanoTime();
      dp.proxySeries(route).record(code, (now - startNanos) / 1000, now);
    }
    ctx.write(out, ctx.voidPromise());
    completeDownstream();
  }

  private void completeAccessLog() {
    if (logged) {
      return;
    }
    logged = true;
    if (dp.logsAccess()) {
      dp.accessLog(this::logLine);
    }
  }

  private void completeDownstream() {
    completeAccessLog();
    if (!keepAlive) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      finish();
      return;
    }
    ctx.flush();
    if (!requestComplete) {
      discardBody = true; // wait for the rest of the body, then serve the next request
      ctx.channel().config().setAutoRead(true);
      serveQueued(); // the rest may have arrived already, pipelined
      return;
    }
    finish();
    serveQueued();
  }

  /**
   * Serves what a pipelining client sent ahead: the rest of the current request (its body may have
   * been queued with it) and the requests after it, as far as they complete now.
   */
  private void serveQueued() {
    while (!queued.isEmpty() && (!active || !requestComplete)) {
      channelRead(ctx, queued.poll());
    }
    if (inputClosed && !active) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    if (!ctx.channel().config().isAutoRead() && queued.size() <= MAX_QUEUED) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void finish() {
    cancelTimeout();
    UpstreamHandler u = upstream;
    if (u != null) {
      // The exchange ended before the instance's answer did (a 408 to a stalled client body):
      // the client's fault, so nothing is recorded against the instance.
      upstream = null;
      u.attach(null);
      u.channel().close();
      endAttempt(-1);
    }
    if (cluster != null && group != null) {
      cluster.active.decrementAndGet();
      if (retrying) {
        cluster.retries.decrementAndGet();
      }
    }
    for (HttpContent c : buffered) {
      c.release();
    }
    buffered.clear();
    if (cluster != null) {
      releaseHold();
    }
    holding = false;
    active = false;
    lastActivityNanos = dp.ticker.nanoTime();
    cluster = null;
    group = null;
    attemptId++;
  }

  private void cancelTimeout() {
    deadlineNanos = 0;
  }

  private void logLine(StringBuilder b) {
    long micros = (dp.ticker.nanoTime() - startNanos) / 1000;
    b.append("{\"time\":\"");
    dp.accessLogTime(b, dp.ticker.epochMillis());
    b.append('"');
    b.append(clientJson);
    AccessLog.field(b, "method", method == null ? "" : method);
    AccessLog.field(b, "path", path == null ? "" : path);
    b.append(",\"status\":").append(status);
    b.append(",\"duration_ms\":");
    AccessLog.millis(b, micros);
    if (route != loggedRoute || routeJson.isEmpty()) {
      loggedRoute = route;
      routeJson = AccessLog.json("route", route == null ? "" : route.name());
    }
    b.append(routeJson);
    if (backend != loggedBackend || sentToInstance != loggedSent || backendJson.isEmpty()) {
      loggedBackend = backend;
      loggedSent = sentToInstance;
      backendJson =
          AccessLog.json("instance", backend == null || !sentToInstance ? "" : backend.id())
              + AccessLog.json("version", backend == null ? "" : backend.version());
    }
    b.append(backendJson);
    b.append(",\"attempts\":").append(attempts);
    if (!reason.isEmpty()) {
      AccessLog.field(b, "reason", reason);
    }
    if (traceparent != null) {
      b.append(",\"traceparent\":\"").append(traceparent).append('"'); // hex and dashes only
    } else {
      String incoming = request == null ? null : request.headers().get(Headers.TRACEPARENT);
      AccessLog.field(b, "traceparent", incoming == null ? "" : incoming);
    }
    b.append('}');
  }
}
