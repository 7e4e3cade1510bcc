package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The proxy's reader of instances' responses: heads, framing, limits, bytes split anywhere. */
class ResponseReaderTest {

  /** What the reader handed on, as text. */
  static final class Recorded implements ResponseReader.Sink {
    final List<String> heads = new ArrayList<>();
    final List<String> framings = new ArrayList<>();
    final List<Boolean> keepAlive = new ArrayList<>();
    final StringBuilder body = new StringBuilder();
    int ends;
    String invalid;

    @Override
    public void head(ResponseReader r) {
      ByteBuf out = Unpooled.buffer();
      r.writeHead(out);
      heads.add(out.toString(StandardCharsets.ISO_8859_1));
      out.release();
      framings.add(r.framing().name());
      keepAlive.add(r.keepAlive());
    }

    @Override
    public void body(ByteBuf part, boolean last) {
      body.append(part.toString(StandardCharsets.ISO_8859_1));
      part.release();
      if (last) {
        ends++;
      }
    }

    @Override
    public void invalid(String why) {
      invalid = why;
    }
  }

  private static Recorded read(String raw, int... cuts) {
    return read(false, raw, cuts);
  }

  /** Feeds raw in pieces split at the given offsets; checks that every piece was released. */
  private static Recorded read(boolean head, String raw, int... cuts) {
    Recorded rec = new Recorded();
    ResponseReader r = new ResponseReader(rec, ByteBufAllocator.DEFAULT);
    r.head = head;
    byte[] bytes = raw.getBytes(StandardCharsets.ISO_8859_1);
    int from = 0;
    List<ByteBuf> fed = new ArrayList<>();
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? Math.min(bytes.length, Math.max(from, cuts[i])) : bytes.length;
      ByteBuf in = Unpooled.buffer(Math.max(1, to - from)).writeBytes(bytes, from, to - from);
      fed.add(in);
      r.read(in);
      in.release();
      from = to;
    }
    r.release();
    for (ByteBuf in : fed) {
      assertThat(in.refCnt()).isZero(); // slices handed on were released by the sink
    }
    return rec;
  }

  @Test
  void aLengthFramedResponse_isHandedOnWithItsHead_andTheConnectionStaysReusable() {
    Recorded r =
        read("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
    assertThat(r.heads)
        .containsExactly("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n");
    assertThat(r.body).hasToString("hello");
    assertThat(r.ends).isOne();
    assertThat(r.framings).containsExactly("LENGTH");
    assertThat(r.keepAlive).containsExactly(true);
  }

  @Test
  void hopByHopHeaders_andThoseConnectionNames_areLeftOut() {
    Recorded r =
        read(
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\n"
                + "x-secret: 1\r\nUpgrade: h2c\r\nTrailer: x\r\nProxy-Connection: x\r\nTE: x\r\n"
                + "Proxy-Authenticate: x\r\nX-Kept: yes\r\nContent-Length: 0\r\n\r\n");
    assertThat(r.heads).containsExactly("HTTP/1.1 200 OK\r\nX-Kept: yes\r\nContent-Length: 0\r\n");
    assertThat(r.ends).isOne();
  }

  @Test
  void aConnectionHeader_cannotRemoveFramingHeaders() {
    Recorded r =
        read("HTTP/1.1 200 OK\r\nConnection: Content-Length, close\r\nContent-Length: 2\r\n\r\nok");
    assertThat(r.heads).containsExactly("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
    assertThat(r.keepAlive).containsExactly(false);
    assertThat(r.body).hasToString("ok");
  }

  @Test
  void aChunkedBody_isForwardedAsItCame_upToItsTrailers() {
    String body = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    Recorded r = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
    assertThat(r.heads).containsExactly("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n");
    assertThat(r.body).hasToString(body);
    assertThat(r.ends).isOne();
    assertThat(r.keepAlive).containsExactly(true);
  }

  @Test
  void transferEncoding_winsOverContentLength_whichIsNotPassedOn() {
    Recorded r =
        read(
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2\r\nok\r\n0\r\n\r\n");
    assertThat(r.heads).containsExactly("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n");
    assertThat(r.body).hasToString("2\r\nok\r\n0\r\n\r\n");
    assertThat(r.ends).isOne();
  }

  @Test
  void noBody_forHead_204_304_evenWithALength() {
    Recorded head = read(true, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    assertThat(head.framings).containsExactly("NONE");
    assertThat(head.heads).containsExactly("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n");
    assertThat(head.ends).isOne();
    assertThat(head.keepAlive).containsExactly(true);
    for (String status : List.of("204 No Content", "304 Not Modified")) {
      Recorded r = read("HTTP/1.1 " + status + "\r\nContent-Length: 9\r\n\r\n");
      assertThat(r.framings).containsExactly("NONE");
      assertThat(r.ends).isOne();
      assertThat(r.keepAlive).containsExactly(true);
    }
  }

  @Test
  void interimAnswers_areSkipped_101IsRefused() {
    Recorded r =
        read(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    assertThat(r.heads).containsExactly("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n");
    assertThat(r.body).hasToString("ok");
    Recorded upgrade = read("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    assertThat(upgrade.heads).isEmpty();
    assertThat(upgrade.invalid).contains("switched protocols");
  }

  @Test
  void aBodyWithoutFraming_endsWhenTheConnectionCloses() {
    Recorded rec = new Recorded();
    ResponseReader r = new ResponseReader(rec, ByteBufAllocator.DEFAULT);
    ByteBuf in =
        Unpooled.copiedBuffer("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nsome", StandardCharsets.UTF_8);
    r.read(in);
    in.release();
    assertThat(rec.framings).containsExactly("UNTIL_CLOSE");
    assertThat(rec.keepAlive).containsExactly(false);
    assertThat(r.endsAtClose()).isTrue();
    assertThat(rec.ends).isZero();
    assertThat(r.closed()).isTrue();
    assertThat(rec.ends).isOne();
    assertThat(rec.body).hasToString("some");
    assertThat(r.reusable()).isFalse();
  }

  @Test
  void http10_keepsTheConnectionOnlyWhenItSaysSo_http11UnlessItSaysClose() {
    assertThat(read("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive)
        .containsExactly(false);
    assertThat(
            read("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
                .keepAlive)
        .containsExactly(true);
    assertThat(read("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keepAlive)
        .containsExactly(false);
  }

  @Test
  void bytesAfterTheResponse_makeTheConnectionUnusable_andAreNotRead() {
    Recorded rec = new Recorded();
    ResponseReader r = new ResponseReader(rec, ByteBufAllocator.DEFAULT);
    ByteBuf in =
        Unpooled.copiedBuffer(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n",
            StandardCharsets.UTF_8);
    r.read(in);
    assertThat(in.isReadable()).isFalse();
    in.release();
    assertThat(rec.heads).hasSize(1);
    assertThat(rec.body).hasToString("ok");
    assertThat(r.reusable()).isFalse();
  }

  @Test
  void malformedResponses_areInvalid_withWhatIsWrong() {
    assertThat(read("SSH-2.0-OpenSSH\r\n\r\n").invalid).contains("status line is not HTTP/1.0");
    assertThat(read("HTTP/2 200\r\n\r\n").invalid).contains("status line");
    assertThat(read("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n").invalid).contains("no colon");
    assertThat(read("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n").invalid).contains("folds");
    assertThat(read("HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx").invalid)
        .contains("whitespace");
    assertThat(read("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx").invalid)
        .contains("Content-Length");
    assertThat(read("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx").invalid)
        .contains("Content-Length");
    assertThat(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").invalid)
        .contains("not hexadecimal");
    assertThat(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n").invalid)
        .contains("longer than its size");
    assertThat(
            read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n")
                .invalid)
        .contains("no valid size");
  }

  @Test
  void limits_headChunkLineAndTrailers_areEnforced() {
    String big = "x".repeat(ResponseReader.MAX_HEAD);
    assertThat(read("HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\n\r\n", 100, 5000).invalid)
        .contains("larger than 12 KiB");
    assertThat(read("HTTP/1.1 200 OK\r\nX-Big: " + big).invalid).contains("larger than 12 KiB");
    assertThat(
            read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"
                    + "e".repeat(ResponseReader.MAX_CHUNK_LINE))
                .invalid)
        .contains("chunk-size line is longer");
    assertThat(
            read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: "
                    + "t".repeat(ResponseReader.MAX_TRAILERS))
                .invalid)
        .contains("trailers are larger");
  }

  /** Any response, cut into pieces anywhere, is read as it is read whole. */
  @Property(tries = 300)
  void cuttingTheBytesAnywhere_changesNothing(
      @ForAll @IntRange(min = 0, max = 3) int kind,
      @ForAll @Size(max = 4) List<@IntRange(min = 0, max = 200) Integer> cuts) {
    String raw =
        switch (kind) {
          case 0 -> "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-A: b\r\n\r\n0123456789";
          case 1 ->
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1;x=y\r\nd\r\n"
                  + "0\r\nT: 1\r\n\r\n";
          case 2 -> "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\n";
          default -> "\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
        };
    int[] at = cuts.stream().mapToInt(Integer::intValue).sorted().toArray();
    Recorded whole = read(raw);
    Recorded cut = read(raw, at);
    assertThat(whole.invalid).isNull();
    assertThat(cut.heads).isEqualTo(whole.heads);
    assertThat(cut.body).hasToString(whole.body.toString());
    assertThat(cut.ends).isEqualTo(whole.ends).isOne();
  }
}
