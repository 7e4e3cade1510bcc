package dev.pilothouse.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;

/** One connection to a backend; hands what it reads to the exchange currently using it. */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  final Backend backend;
  final BackendState state;
  private final UpstreamPool pool;
  final UpstreamDecoder decoder;
  private Channel channel;
  private FrontendHandler owner;
  private boolean idle;
  long idleSince;

  private final Ticker ticker;

  UpstreamHandler(
      Backend backend,
      BackendState state,
      UpstreamPool pool,
      UpstreamDecoder decoder,
      Ticker ticker) {
    this.ticker = ticker;
    this.decoder = decoder;
    this.backend = backend;
    this.state = state;
    this.pool = pool;
  }

  Channel channel() {
    return channel;
  }

  void attach(FrontendHandler frontend) {
    this.owner = frontend;
    this.idle = false;
  }

  /** Returns the connection to the pool for the next request. */
  void release() {
    owner = null;
    idle = true;
    idleSince = ticker.nanoTime();
    channel.config().setAutoRead(true);
    pool.release(backend, this);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    state.connections.incrementAndGet();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    FrontendHandler o = owner;
    if (o == null) {
      ReferenceCountUtil.release(msg); // unsolicited bytes on an idle connection
      ctx.close();
      return;
    }
    if (msg instanceof HttpResponse r) {
      o.onResponseHead(this, r);
    }
    if (msg instanceof HttpContent c) {
      o.onResponseContent(this, c);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    FrontendHandler o = owner;
    if (o != null) {
      o.flushDownstream();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    FrontendHandler o = owner;
    if (o != null) {
      o.upstreamWritabilityChanged(ctx.channel().isWritable());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    state.connections.decrementAndGet();
    FrontendHandler o = owner;
    owner = null;
    if (idle) {
      pool.remove(backend, this);
    } else if (o != null) {
      o.onUpstreamFailure(this, "connection closed by instance", false);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // reported through channelInactive
  }
}
