package dev.pilothouse.client.load;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * An open-model HTTP load generator: sends requests at a constant rate over a fixed set of
 * keep-alive connections, whatever the server's speed, and records each latency from the request's
 * intended start in an HdrHistogram (correcting coordinated omission).
 */
public final class LoadGenerator {

  /**
   * What to run.
   *
   * @param rate requests per second
   * @param timeout a request unanswered this long counts as an error
   */
  public record Options(
      URI uri, double rate, Duration duration, int connections, Duration timeout, String host) {
    /** Requests carrying the URL's host and port as their Host header. */
    public Options(URI uri, double rate, Duration duration, int connections, Duration timeout) {
      this(uri, rate, duration, connections, timeout, null);
    }

    /** The Host header sent: host if given (e.g. a route's virtual host), else the URL's. */
    public String hostHeader() {
      return host != null && !host.isEmpty()
          ? host
          : uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
    }

    public Options {
      requireNonNull(uri, "uri");
      requireNonNull(duration, "duration");
      requireNonNull(timeout, "timeout");
      if (!"http".equals(uri.getScheme())) {
        throw new IllegalArgumentException("only http:// URLs are supported, but got " + uri);
      }
      if (rate <= 0 || rate > 1_000_000) {
        throw new IllegalArgumentException(
            "rate must be in (0, 1000000] requests/s, but was " + rate);
      }
      if (connections < 1 || connections > 10_000) {
        throw new IllegalArgumentException(
            "connections must be in 1..10000, but was " + connections);
      }
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("duration must be positive, but was " + duration);
      }
    }
  }

  /** Progress once a second: requests answered so far, errors so far, seconds elapsed. */
  public interface Progress {
    void update(long answered, long errors, double elapsedS);
  }

  private final Options o;
  private final Histogram histogram = new Histogram(TimeUnit.SECONDS.toMicros(120), 3);
  private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final ArrayDeque<Long> queue = new ArrayDeque<>();
  private final ArrayDeque<Conn> idle = new ArrayDeque<>();
  private EventLoop loop;
  private long startNanos;
  private long intervalNanos;
  private long issued;
  private long total;
  private boolean stopping;
  private final CompletableFuture<LoadResult> done = new CompletableFuture<>();
  private Bootstrap bootstrap;
  private int openConnections;

  private LoadGenerator(Options o) {
    this.o = o;
  }

  /** Runs the load and returns what it measured; progress may be null. */
  public static LoadResult run(Options o, Progress progress) {
    return new LoadGenerator(o).go(progress);
  }

  private LoadResult go(Progress progress) {
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            1, Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    try {
      loop = group.next();
      bootstrap =
          new Bootstrap()
              .group(loop)
              .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
              .option(ChannelOption.TCP_NODELAY, true)
              .option(
                  ChannelOption.CONNECT_TIMEOUT_MILLIS,
                  (int) Math.min(o.timeout().toMillis(), 10_000));
      intervalNanos = (long) (1e9 / o.rate());
      total = Math.max(1, (long) Math.floor(o.rate() * o.duration().toNanos() / 1e9));
      loop.execute(this::begin);
      long deadline =
          System.nanoTime()
              + o.duration().toNanos()
              + o.timeout().toNanos()
              + TimeUnit.SECONDS.toNanos(5);
      while (!done.isDone() && System.nanoTime() < deadline) {
        try {
          done.get(1, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          if (progress != null) {
            progress.update(answered.get(), errors.get(), (System.nanoTime() - startNanos) / 1e9);
          }
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IllegalStateException("load run failed: " + e.getCause(), e.getCause());
        }
      }
      if (!done.isDone()) {
        loop.execute(() -> finish(true));
      }
      return done.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private void begin() {
    startNanos = System.nanoTime();
    for (int i = 0; i < o.connections(); i++) {
      connect();
    }
    tick();
  }

  /** Issues every request whose intended start has come, then schedules the next tick. */
  private void tick() {
    if (stopping) {
      return;
    }
    long now = System.nanoTime();
    expire(now);
    while (issued < total) {
      long intended = startNanos + issued * intervalNanos;
      if (intended - now > 0) {
        break;
      }
      issued++;
      queue.addLast(intended);
    }
    dispatch();
    if (issued < total) {
      long next = startNanos + issued * intervalNanos - now;
      loop.schedule(this::tick, Math.max(100_000, Math.min(next, 1_000_000)), TimeUnit.NANOSECONDS);
    } else {
      loop.schedule(this::checkDone, 1, TimeUnit.MILLISECONDS);
    }
  }

  /** Requests that could not be sent within the timeout count as errors. */
  private void expire(long now) {
    Long first;
    while ((first = queue.peekFirst()) != null && now - first > o.timeout().toNanos()) {
      queue.pollFirst();
      errors.incrementAndGet();
    }
  }

  private void checkDone() {
    expire(System.nanoTime());
    if (queue.isEmpty() && idle.size() == openConnections && !stopping) {
      finish(false);
    } else if (!stopping) {
      loop.schedule(this::checkDone, 5, TimeUnit.MILLISECONDS);
    }
  }

  private void dispatch() {
    while (!queue.isEmpty() && !idle.isEmpty()) {
      Conn c = idle.pollLast();
      if (!c.channel.isActive()) {
        continue;
      }
      c.send(queue.pollFirst());
    }
  }

  private void connect() {
    if (stopping) {
      return;
    }
    Conn c = new Conn();
    bootstrap
        .clone()
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new HttpClientCodec()).addLast(c);
              }
            })
        .connect(o.uri().getHost(), port())
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess()) {
                    c.channel = f.channel();
                    openConnections++;
                    idle.addLast(c);
                    dispatch();
                  } else {
                    loop.schedule(this::connect, 20, TimeUnit.MILLISECONDS);
                  }
                });
  }

  private int port() {
    return o.uri().getPort() > 0 ? o.uri().getPort() : 80;
  }

  private void finish(boolean timedOut) {
    if (done.isDone()) {
      return;
    }
    stopping = true;
    long notSent = timedOut ? (total - issued) + queue.size() : 0;
    errors.addAndGet(notSent);
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    Map<String, Long> status = new TreeMap<>();
    statuses.forEach((k, v) -> status.put(Integer.toString(k), v.sum()));
    Map<String, Double> lat = new java.util.LinkedHashMap<>();
    lat.put("p50", ms(histogram.getValueAtPercentile(50)));
    lat.put("p90", ms(histogram.getValueAtPercentile(90)));
    lat.put("p99", ms(histogram.getValueAtPercentile(99)));
    lat.put("p999", ms(histogram.getValueAtPercentile(99.9)));
    lat.put("max", ms(histogram.getMaxValue()));
    lat.put("mean", Math.round(histogram.getMean()) / 1000.0);
    done.complete(
        new LoadResult(
            answered.get(),
            errors.get(),
            status,
            lat,
            Math.round(elapsed * 1000) / 1000.0,
            o.rate(),
            Math.round(answered.get() / Math.max(elapsed, 1e-9) * 10) / 10.0,
            o.connections()));
    for (Conn c : idle) {
      c.channel.close();
    }
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }

  /** One keep-alive connection; one request at a time. */
  private final class Conn extends ChannelInboundHandlerAdapter {
    Channel channel;
    long intended;
    boolean busy;
    int status;
    ScheduledFuture<?> timeout;

    void send(long intendedNanos) {
      intended = intendedNanos;
      busy = true;
      status = 0;
      String path =
          o.uri().getRawPath() == null || o.uri().getRawPath().isEmpty()
              ? "/"
              : o.uri().getRawPath();
      if (o.uri().getRawQuery() != null) {
        path += "?" + o.uri().getRawQuery();
      }
      DefaultFullHttpRequest req =
          new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
      req.headers().set(HttpHeaderNames.HOST, o.hostHeader());
      req.headers().set(HttpHeaderNames.USER_AGENT, "pilothouse-load");
      channel.writeAndFlush(req);
      timeout =
          loop.schedule(
              () -> {
                if (busy) {
                  fail();
                  channel.close();
                }
              },
              o.timeout().toNanos(),
              TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpResponse r) {
        status = r.status().code();
      }
      boolean last = msg instanceof LastHttpContent;
      ReferenceCountUtil.release(msg);
      if (last && busy) {
        busy = false;
        timeout.cancel(false);
        long micros = Math.max(1, (System.nanoTime() - intended) / 1000);
        histogram.recordValue(Math.min(micros, histogram.getHighestTrackableValue()));
        statuses.computeIfAbsent(status, k -> new LongAdder()).increment();
        answered.incrementAndGet();
        if (!queue.isEmpty() && !stopping) {
          send(queue.pollFirst());
        } else {
          idle.addLast(this);
        }
      }
    }

    private void fail() {
      if (busy) {
        busy = false;
        if (timeout != null) {
          timeout.cancel(false);
        }
        errors.incrementAndGet();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      fail();
      idle.remove(this);
      openConnections--;
      if (!stopping) {
        loop.schedule(LoadGenerator.this::connect, 1, TimeUnit.MILLISECONDS);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Parses "30s", "2m", "1500ms" into a duration; null when invalid. */
  public static Duration parseDuration(String s) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(s);
    if (!m.matches()) {
      return null;
    }
    long v = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(v);
      case "s" -> Duration.ofSeconds(v);
      case "m" -> Duration.ofMinutes(v);
      default -> Duration.ofHours(v);
    };
  }
}
