package dev.pilothouse.proxy;

/** The running proxy: routes requests by the current route table and measures them. */
public interface DataPlane extends AutoCloseable {

  /** Starts listening; throws {@link ProxyException} when it cannot (port taken, bad TLS files). */
  static DataPlane start(ProxyOptions options) {
    return NettyDataPlane.start(options, Ticker.SYSTEM);
  }

  /** Starts listening, keeping time by ticker (tests move it by hand). */
  static DataPlane start(ProxyOptions options, Ticker ticker) {
    return NettyDataPlane.start(options, ticker);
  }

  /** The clocks it keeps time by. */
  Ticker ticker();

  /**
   * Loads the transport's native library and the request path's classes ahead of the first {@link
   * #start}, so a freshly started proxy process serves sooner.
   */
  static void prepare() {
    NettyDataPlane.prepare();
  }

  /** Swaps in a new route table; requests in flight finish on the table they started with. */
  void update(RouteTable table);

  /** The current route table. */
  RouteTable table();

  /** RED metrics. */
  ProxyMetrics metrics();

  /** The socket transport in use: io_uring, epoll or nio. */
  String transport();

  /** The port it listens on. */
  int port();

  /** Requests of a route that found no ready instance so far (held or refused). */
  long coldRequests(String route);

  /** Requests in flight to one backend (instance id); 0 when unknown. Used to drain. */
  int inFlight(String backendId);

  /** Stops listening and closes every connection. */
  @Override
  void close();
}
