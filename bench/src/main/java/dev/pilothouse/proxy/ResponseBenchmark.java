package dev.pilothouse.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One instance's answer (nginx's head, 1 KiB body) from the bytes read off its connection to the
 * bytes written toward the client, hop-by-hop headers left out: the proxy's {@link ResponseReader}
 * against Netty's response decoder and encoder, which it replaced. Both run in an embedded channel
 * (the same pipeline cost), both check that the client side got the body.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ResponseBenchmark {
  static final byte[] ANSWER =
      ("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 02 Dec 2026 15:00:00 GMT\r\n"
              + "Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n"
              + "Connection: keep-alive\r\n\r\n"
              + "x".repeat(1023)
              + "\n")
          .getBytes(StandardCharsets.US_ASCII);

  ByteBuf answer;
  EmbeddedChannel reader;
  EmbeddedChannel decoder;
  EmbeddedChannel encoder;

  @Setup(Level.Trial)
  public void setup() {
    answer = Unpooled.directBuffer(ANSWER.length).writeBytes(ANSWER);
    reader = new EmbeddedChannel(new ReaderHandler());
    encoder = new EmbeddedChannel(new HttpResponseEncoder());
    decoder =
        new EmbeddedChannel(
            // as the proxy configured it: instances' header names were not re-validated
            new HttpResponseDecoder(
                new HttpDecoderConfig()
                    .setMaxChunkSize(65536)
                    .setHeadersFactory(
                        DefaultHttpHeadersFactory.headersFactory()
                            .withNameValidation(false)
                            .withValueValidation(false))),
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpResponse r) {
                  Headers.removeHopByHop(r.headers());
                }
                encoder.writeOneOutbound(msg);
              }
            });
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    reader.finishAndReleaseAll();
    decoder.finishAndReleaseAll();
    encoder.finishAndReleaseAll();
    answer.release();
  }

  /** Reads the answer with the proxy's reader and writes head and body out as the proxy does. */
  static final class ReaderHandler extends ChannelInboundHandlerAdapter
      implements ResponseReader.Sink {
    ResponseReader r;
    ChannelHandlerContext ctx;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      r = new ResponseReader(this, ctx.alloc());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      try {
        r.read(in);
      } finally {
        in.release();
      }
    }

    @Override
    public void head(ResponseReader head) {
      ByteBuf out = ctx.alloc().buffer(head.headBytes() + 160);
      head.writeHead(out);
      out.writeShort(('\r' << 8) | '\n');
      ctx.write(out, ctx.voidPromise());
    }

    @Override
    public void body(ByteBuf part, boolean last) {
      ctx.write(part, ctx.voidPromise());
    }

    @Override
    public void invalid(String why) {
      throw new IllegalStateException(why);
    }
  }

  private static long drain(EmbeddedChannel ch) {
    ch.flushOutbound();
    long bytes = 0;
    Object o;
    while ((o = ch.readOutbound()) != null) {
      if (o instanceof ByteBuf b) {
        bytes += b.readableBytes();
      }
      ReferenceCountUtil.release(o);
    }
    if (bytes < 1024) {
      throw new IllegalStateException("the client side got " + bytes + " bytes");
    }
    return bytes;
  }

  @Benchmark
  public long responseReader() {
    reader.writeInbound(answer.retainedDuplicate());
    return drain(reader);
  }

  @Benchmark
  public long nettyDecoderAndEncoder() {
    decoder.writeInbound(answer.retainedDuplicate());
    Object o;
    while ((o = decoder.readInbound()) != null) {
      ReferenceCountUtil.release((HttpObject) o);
    }
    return drain(encoder);
  }
}
