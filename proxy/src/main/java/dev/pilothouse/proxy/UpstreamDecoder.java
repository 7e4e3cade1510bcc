package dev.pilothouse.proxy;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponseDecoder;

/**
 * Decodes an instance's responses. Knows (from the exchange) whether the request was HEAD, so it
 * needs no request queue: a plain decoder and encoder cost less per message than the combined
 * client codec.
 */
final class UpstreamDecoder extends HttpResponseDecoder {
  boolean head;

  UpstreamDecoder(HttpDecoderConfig config) {
    super(config);
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    return head || super.isContentAlwaysEmpty(msg);
  }
}
