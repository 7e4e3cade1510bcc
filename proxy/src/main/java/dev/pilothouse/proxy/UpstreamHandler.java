package dev.pilothouse.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * One connection to a backend; reads its responses' bytes ({@link ResponseReader}) and hands them
 * to the exchange currently using it.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter implements ResponseReader.Sink {
  final Backend backend;
  final BackendState state;
  private final UpstreamPool pool;
  ResponseReader reader;
  private Channel channel;
  private FrontendHandler owner;
  private boolean idle;
  long idleSince;

  private final Ticker ticker;

  UpstreamHandler(Backend backend, BackendState state, UpstreamPool pool, Ticker ticker) {
    this.ticker = ticker;
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
    reader = new ResponseReader(this, ctx.alloc());
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    state.connections.incrementAndGet();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (owner == null || !(msg instanceof ByteBuf in)) {
      ReferenceCountUtil.release(msg); // unsolicited bytes on an idle connection
      ctx.close();
      return;
    }
    try {
      reader.read(in);
    } finally {
      in.release();
    }
  }

  @Override
  public void head(ResponseReader head) {
    FrontendHandler o = owner;
    if (o != null) {
      o.onResponseHead(this, head);
    }
  }

  @Override
  public void body(ByteBuf part, boolean last) {
    FrontendHandler o = owner;
    if (o != null) {
      o.onResponseBody(this, part, last);
    } else {
      part.release();
    }
  }

  @Override
  public void invalid(String why) {
    FrontendHandler o = owner;
    owner = null;
    channel.close();
    if (o != null) {
      o.onUpstreamFailure(this, why, false);
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
    if (!idle && owner != null && reader.closed()) {
      return; // that was the end of a body that ends when the connection closes
    }
    reader.release();
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
