package dev.pilothouse.proxy;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Netty data plane: event loops (epoll where available), the route table and live state. */
final class NettyDataPlane implements DataPlane {
  private static final Logger log = LoggerFactory.getLogger(NettyDataPlane.class);

  private final AtomicReference<RouteTable> table = new AtomicReference<>(RouteTable.empty());
  private final ConcurrentHashMap<String, BackendState> states = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ClusterState> clusters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Limiter> limiters = new ConcurrentHashMap<>();
  private final ProxyMetrics metrics = new ProxyMetrics();
  private final Map<EventExecutor, UpstreamPool> pools = new IdentityHashMap<>();
  private final Map<EventExecutor, Sweeper> sweepers = new IdentityHashMap<>();
  private final EventLoopGroup group;
  private final AccessLog accessLog;
  private final List<Cidr> trusted;
  private final long bodyTimeoutNanos;
  private Channel server;
  private int port;

  /**
   * Requests come from anywhere: their headers are validated once by {@link Headers#invalid} rather
   * than on every set, so the headers the proxy adds cost no validation.
   */
  private static final io.netty.handler.codec.http.HttpDecoderConfig CLIENT_DECODER =
      new io.netty.handler.codec.http.HttpDecoderConfig()
          .setMaxInitialLineLength(8192)
          .setMaxHeaderSize(16384)
          .setMaxChunkSize(65536)
          .setHeadersFactory(
              io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory()
                  .withNameValidation(false)
                  .withValueValidation(false))
          .setTrailersFactory(
              io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory()
                  .withNameValidation(false)
                  .withValueValidation(false));

  private record Limiter(RoutePolicy.RateLimit config, Bucket bucket) {}

  /** The socket transport: io_uring, epoll or NIO, with its channel classes. */
  record Transport(
      String name,
      java.util.function.Supplier<IoHandlerFactory> factory,
      Class<? extends io.netty.channel.ServerChannel> server,
      Class<? extends io.netty.channel.Channel> client) {

    /**
     * The fastest one available, or the one named by {@code -Dpilothouse.proxy.transport} (or
     * $PILOTHOUSE_PROXY_TRANSPORT): {@code io_uring}, {@code epoll} or {@code nio}.
     */
    static Transport choose() {
      String want =
          System.getProperty(
              "pilothouse.proxy.transport",
              java.util.Objects.requireNonNullElse(
                  System.getenv("PILOTHOUSE_PROXY_TRANSPORT"), "auto"));
      if (!java.util.List.of("auto", "io_uring", "epoll", "nio").contains(want)) {
        log.warn(
            "unknown proxy transport '{}' (pilothouse.proxy.transport or"
                + " PILOTHOUSE_PROXY_TRANSPORT): use io_uring, epoll, nio or auto; using auto",
            want);
        want = "auto";
      }
      boolean any = want.equals("auto");
      if ((any || want.equals("io_uring")) && io.netty.channel.uring.IoUring.isAvailable()) {
        return new Transport(
            "io_uring",
            io.netty.channel.uring.IoUringIoHandler::newFactory,
            io.netty.channel.uring.IoUringServerSocketChannel.class,
            io.netty.channel.uring.IoUringSocketChannel.class);
      }
      return want.equals("nio") ? nio() : withoutIoUring();
    }

    /** epoll where available, else NIO. */
    static Transport withoutIoUring() {
      if (Epoll.isAvailable()) {
        return new Transport(
            "epoll",
            EpollIoHandler::newFactory,
            EpollServerSocketChannel.class,
            EpollSocketChannel.class);
      }
      return nio();
    }

    private static Transport nio() {
      return new Transport(
          "nio", NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);
    }
  }

  /** An event loop group and the transport it runs. */
  record Loops(Transport transport, EventLoopGroup group) {}

  /**
   * Starts the event loops on the preferred transport; if io_uring cannot start them (a locked-
   * memory limit, a kernel refusing a ring of that size), on epoll or NIO instead, with a warning.
   */
  static Loops startLoops(
      Transport preferred, java.util.function.Function<Transport, EventLoopGroup> start) {
    try {
      return new Loops(preferred, start.apply(preferred));
    } catch (RuntimeException | LinkageError e) {
      if (!preferred.name().equals("io_uring")) {
        throw e;
      }
      Transport fallback = Transport.withoutIoUring();
      log.warn(
          "io_uring could not start the proxy's event loops ({}); using {}", e, fallback.name());
      return new Loops(fallback, start.apply(fallback));
    }
  }

  private final Transport transport;

  @Override
  public Ticker ticker() {
    return ticker;
  }

  @Override
  public String transport() {
    return transport.name();
  }

  /** The data plane's clocks. */
  final Ticker ticker;

  private NettyDataPlane(ProxyOptions o, Ticker ticker) {
    this.ticker = ticker;
    int threads = o.ioThreads() > 0 ? o.ioThreads() : Runtime.getRuntime().availableProcessors();
    Loops loops = takePrepared(threads);
    if (loops == null) {
      loops =
          startLoops(
              Transport.choose(), t -> new MultiThreadIoEventLoopGroup(threads, t.factory().get()));
    }
    this.transport = loops.transport();
    this.group = loops.group();
    for (EventExecutor e : group) {
      pools.put(e, new UpstreamPool());
      Sweeper s = new Sweeper(o.idleTimeout().toNanos(), ticker);
      sweepers.put(e, s);
      e.scheduleAtFixedRate(s, Sweeper.PERIOD_MS, Sweeper.PERIOD_MS, TimeUnit.MILLISECONDS);
      if (o.accessLog() != null) {
        e.scheduleAtFixedRate(
            this::flushAccessLog, FLUSH_LOG_MS, FLUSH_LOG_MS, TimeUnit.MILLISECONDS);
      }
    }
    this.trusted = o.trustedProxies().stream().map(Cidr::parse).toList();
    this.bodyTimeoutNanos = o.bodyTimeout().toNanos();
    this.accessLog =
        o.accessLog() == null
            ? null
            : new AccessLog(
                o.accessLog(), o.accessLogSample(), o.accessLogMaxBytes(), o.accessLogKeep());
    if (accessLog != null) {
      metrics.accessLogDropped(accessLog::dropped);
    }
  }

  /** How often each event loop hands its access-log lines to the writer. */
  private static final long FLUSH_LOG_MS = 200;

  private void flushAccessLog() {
    if (accessLog != null) {
      accessLog.flushThisThread();
    }
  }

  /** Event loops started ahead of the first data plane (see {@link DataPlane#prepare}). */
  private static Loops prepared;

  /** A data plane has started: preparing loops now would only leave them idle. */
  private static boolean anyStarted;

  /**
   * Starts the default event loops (one per core) and loads the request path's classes, so that the
   * next {@link #start} with default threads takes them instead of starting its own.
   */
  static synchronized void prepare() {
    if (prepared == null && !anyStarted) {
      int threads = Runtime.getRuntime().availableProcessors();
      prepared =
          startLoops(
              Transport.choose(), t -> new MultiThreadIoEventLoopGroup(threads, t.factory().get()));
    }
    for (Class<?> c :
        List.of(
            FrontendHandler.class,
            UpstreamHandler.class,
            StrictRequestDecoder.class,
            ResponseReader.class,
            HttpClientCodec.class,
            IdleStateHandler.class,
            ServerBootstrap.class,
            Bootstrap.class)) {
      try {
        Class.forName(c.getName(), true, c.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** The prepared loops if they have this many threads (waiting while they are being started). */
  private static synchronized Loops takePrepared(int threads) {
    anyStarted = true;
    Loops l = prepared;
    if (l == null
        || l.group() instanceof MultiThreadIoEventLoopGroup g && g.executorCount() != threads) {
      return null;
    }
    prepared = null;
    return l;
  }

  static NettyDataPlane start(ProxyOptions o, Ticker ticker) {
    NettyDataPlane dp = new NettyDataPlane(o, ticker);
    try {
      dp.listen(o, dp.transport.server());
      return dp;
    } catch (RuntimeException e) {
      dp.close();
      throw e;
    }
  }

  private void listen(ProxyOptions o, Class<? extends ServerChannel> serverChannel) {
    SslContext ssl = null;
    if (o.tlsCert() != null) {
      try {
        ssl = SslContextBuilder.forServer(o.tlsCert().toFile(), o.tlsKey().toFile()).build();
      } catch (Exception e) {
        throw new ProxyException(
            "cannot load TLS certificate "
                + o.tlsCert()
                + " and key "
                + o.tlsKey()
                + ": "
                + e.getMessage()
                + " (the key must be PEM, PKCS#8)",
            e);
      }
    }
    final SslContext sslContext = ssl;
    ServerBootstrap b =
        new ServerBootstrap()
            .group(group)
            .channel(serverChannel)
            .option(ChannelOption.SO_BACKLOG, 4096)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, true)
            // A client that sends its request and then shuts its side down still gets the answer.
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (sslContext != null) {
                      ch.pipeline().addLast(sslContext.newHandler(ch.alloc()));
                    }
                    ch.pipeline()
                        .addLast(new StrictRequestDecoder(CLIENT_DECODER))
                        .addLast(
                            new FrontendHandler(
                                NettyDataPlane.this,
                                sslContext != null,
                                pools.get(ch.eventLoop()),
                                sweepers.get(ch.eventLoop())));
                  }
                });
    try {
      server = b.bind(o.host(), o.port()).sync().channel();
    } catch (Exception e) {
      throw new ProxyException(
          "cannot listen on "
              + o.host()
              + ":"
              + o.port()
              + ": "
              + e.getMessage()
              + " (is another process using the port? change proxy.port in the spec)",
          e);
    }
    port = ((java.net.InetSocketAddress) server.localAddress()).getPort();
    log.info("proxy listening on {}:{} ({})", o.host(), port, transport.name());
  }

  // ---- DataPlane

  @Override
  public void update(RouteTable t) {
    // Every backend's series exists, at 0, from the first table naming it: a series first scraped
    // with 200 requests in it would show rate() none of them (cost per request, SLOs, analysis).
    for (Route r : t.routes()) {
      for (BackendGroup g : r.groups()) {
        for (Backend b : g.backends()) {
          metrics.series(r.name(), b.service(), b.version(), b.id());
        }
      }
    }
    table.set(t);
  }

  @Override
  public RouteTable table() {
    return table.get();
  }

  @Override
  public ProxyMetrics metrics() {
    return metrics;
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public int inFlight(String backendId) {
    BackendState s = states.get(backendId);
    return s == null ? 0 : s.active.get();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
    }
    if (accessLog != null) {
      for (EventExecutor e : group) { // the lines each event loop has not handed over yet
        e.submit(accessLog::flushThisThread).awaitUninterruptibly(2, TimeUnit.SECONDS);
      }
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    if (accessLog != null) {
      accessLog.close();
    }
  }

  // ---- for the handlers

  Map<String, BackendState> states() {
    return states;
  }

  BackendState state(Backend b) {
    BackendState s = states.get(b.id());
    return s != null ? s : states.computeIfAbsent(b.id(), BackendState::new);
  }

  @Override
  public long coldRequests(String route) {
    ClusterState c = clusters.get(route);
    return c == null ? 0 : c.cold.get();
  }

  ClusterState cluster(String route) {
    ClusterState c = clusters.get(route);
    return c != null ? c : clusters.computeIfAbsent(route, r -> new ClusterState());
  }

  Series series(Route r, Backend b, BackendState s) {
    Series cached = s.series;
    if (cached != null && cached.route.equals(r.name()) && cached.version.equals(b.version())) {
      return cached;
    }
    Series fresh = metrics.series(r.name(), b.service(), b.version(), b.id());
    s.series = fresh;
    return fresh;
  }

  /** The series of answers the proxy gives itself (404, 429, 502, 503, 504) for a route. */
  Series proxySeries(Route r) {
    return metrics.series(r.name(), r.name(), "", "");
  }

  /** 0 when the request may pass the route's rate limit, else nanoseconds until a token. */
  long rateLimit(Route r) {
    RoutePolicy.RateLimit rl = r.policy().rateLimit();
    if (rl.requestsPerSecond() <= 0) {
      return 0;
    }
    Limiter l = limiters.get(r.name());
    if (l == null || !l.config().equals(rl)) {
      l = new Limiter(rl, bucket(rl));
      limiters.put(r.name(), l);
    }
    ConsumptionProbe p = l.bucket().tryConsumeAndReturnRemaining(1);
    return p.isConsumed() ? 0 : Math.max(1, p.getNanosToWaitForRefill());
  }

  private static Bucket bucket(RoutePolicy.RateLimit rl) {
    long burst =
        Math.max(1, rl.burst() > 0 ? rl.burst() : (long) Math.ceil(rl.requestsPerSecond()));
    long periodNanos = (long) (1e9 / rl.requestsPerSecond());
    return Bucket.builder()
        .addLimit(
            limit ->
                limit.capacity(burst).refillGreedy(1, Duration.ofNanos(Math.max(1, periodNanos))))
        .build();
  }

  /** Counts a failure of an instance and ejects it when it keeps failing. */
  void failure(Route r, BackendGroup g, Backend b, BackendState s, Series series) {
    if (s == null || b == null || g == null) {
      return;
    }
    RoutePolicy.Outlier o = r.policy().outlier();
    if (o.consecutiveFailures() <= 0
        || s.consecutiveFailures.incrementAndGet() < o.consecutiveFailures()) {
      return;
    }
    long now = ticker.nanoTime();
    int ejected = 0;
    for (Backend other : g.backends()) {
      BackendState os = states.get(other.id());
      if (os != null && os.ejected(now)) {
        ejected++;
      }
    }
    if ((ejected + 1) * 100L > (long) o.maxEjectedPercent() * g.backends().size()) {
      return;
    }
    int n = s.ejections.incrementAndGet();
    s.ejectedUntilNanos = now + o.baseEjection().toNanos() * n;
    s.consecutiveFailures.set(0);
    series.ejections.increment();
    log.info(
        "ejected instance {} of route {} for {} ms",
        b.id(),
        r.name(),
        o.baseEjection().toMillis() * n);
  }

  ChannelFuture connect(
      Backend b, BackendState s, EventLoop loop, UpstreamPool pool, Duration timeout) {
    return new Bootstrap()
        .group(loop)
        .channel(transport.client())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeout.toMillis()))
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new UpstreamHandler(b, s, pool, ticker));
              }
            })
        .connect(b.host(), b.port());
  }

  /**
   * Sends a bodyless copy of a request to the route's mirror group. The answer is measured in the
   * backend's RED series (so canary analysis judges mirrored traffic like live traffic), then
   * discarded: the client never sees it.
   */
  void mirror(RouteTable table, Route r, HttpRequest req, EventLoop loop) {
    BackendGroup g = r.group(r.mirror());
    if (g == null || g.backends().isEmpty()) {
      return;
    }
    Backend b =
        Balancer.pick(
            g.backends(),
            RoutePolicy.Balancing.ROUND_ROBIN,
            table.counter(g),
            states,
            null,
            null,
            ticker.nanoTime());
    DefaultFullHttpRequest copy =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, req.method(), req.uri());
    copy.headers().set(req.headers());
    copy.headers().set("x-pilothouse-mirror", "1");
    Series series = series(r, b, state(b));
    long start = ticker.nanoTime();
    int[] status = {0}; // 0 until an answer's status line arrives: a transport error
    boolean[] recorded = {false};
    Runnable record =
        () -> {
          if (!recorded[0]) {
            recorded[0] = true;
            long now = ticker.nanoTime();
            series.record(status[0], (now - start) / 1000, now);
          }
        };
    new Bootstrap()
        .group(loop)
        .channel(transport.client())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) r.policy().connectTimeout().toMillis())
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline()
                    .addLast(new HttpClientCodec())
                    .addLast(
                        new IdleStateHandler(
                            0, 0, r.policy().requestTimeout().toMillis(), TimeUnit.MILLISECONDS))
                    .addLast(
                        new ChannelInboundHandlerAdapter() {
                          @Override
                          public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof io.netty.handler.codec.http.HttpResponse res) {
                              status[0] = res.status().code();
                            }
                            boolean last = msg instanceof LastHttpContent;
                            ReferenceCountUtil.release(msg);
                            if (last) {
                              record.run();
                              ctx.close();
                            }
                          }

                          @Override
                          public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            status[0] = 0; // timed out
                            record.run();
                            ctx.close();
                          }

                          @Override
                          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            status[0] = 0;
                            record.run();
                            ctx.close();
                          }

                          @Override
                          public void channelInactive(ChannelHandlerContext ctx) {
                            if (!recorded[0]) {
                              status[0] = 0; // closed before a whole answer
                              record.run();
                            }
                          }
                        });
              }
            })
        .connect(b.host(), b.port())
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess()) {
                    f.channel().writeAndFlush(copy);
                  } else {
                    copy.release();
                    record.run(); // could not connect: a transport error
                  }
                });
  }

  boolean logsAccess() {
    return accessLog != null;
  }

  /** Whether a peer's X-Forwarded-* headers are kept (it is one of the trusted proxies). */
  boolean trusts(java.net.InetAddress peer) {
    for (Cidr c : trusted) {
      if (c.contains(peer)) {
        return true;
      }
    }
    return false;
  }

  /** How long a request or response body may send nothing. */
  long bodyTimeoutNanos() {
    return bodyTimeoutNanos;
  }

  void accessLog(java.util.function.Consumer<StringBuilder> line) {
    if (accessLog != null) {
      accessLog.log(line);
    }
  }

  void accessLogTime(StringBuilder b, long epochMillis) {
    accessLog.time(b, epochMillis);
  }
}
