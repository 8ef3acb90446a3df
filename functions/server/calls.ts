// What bounds a call around the handler: a deadline from the moment its
// headers arrive (so a stream that sends half a message and stalls is
// cancelled, and what it buffered is dropped), and a ceiling on calls in
// flight across every connection. Both answer with a gRPC status and a log
// line; the handler never sees such a call. HTTP/2's own limits (streams per
// connection, session memory, keepalive, idle connections) are in http2Options.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "./logger.ts";

export interface CallLimits {
  /** From the request's headers to the response's trailers; a client's shorter grpc-timeout still wins. */
  callTimeoutSeconds: number;
  /** Calls in flight (receiving, queued or composing) across all connections; more are refused. */
  maxCallsInFlight: number;
  /** Streams one HTTP/2 connection may have open; a Go client (Crossplane) queues more rather than failing. */
  maxConcurrentStreams: number;
}

/** The grpc-js server options that bound HTTP/2 itself. */
export function http2Options(limits: CallLimits): grpc.ServerOptions {
  return {
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
    // nghttp2's own memory per connection (header tables, queued frames), in MB: new streams are refused past it.
    // grpc-js turns the check off by default; 64 holds a dozen 4 MiB responses in flight.
    "grpc-node.max_session_memory": 64,
    // Ping an idle peer every minute; a connection that does not answer in 20 s is closed.
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    // A connection with no call for 5 minutes is closed (Crossplane reconnects on demand).
    "grpc.max_connection_idle_ms": 5 * 60_000,
  };
}

export interface CallGuard {
  interceptor: grpc.ServerInterceptor;
  inFlight(): number;
}

export function callGuard(limits: CallLimits, log: Logger): CallGuard {
  let inFlight = 0;
  const interceptor: grpc.ServerInterceptor = (method, call) => {
    const peer = call.getPeer();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      inFlight--;
      clearTimeout(timer);
    };
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(new grpc.ServerListenerBuilder().withOnCancel(finish).build()))
      .withSendStatus((status, next) => {
        finish();
        next(status);
      })
      .build();
    const guarded = new grpc.ServerInterceptingCall(call, responder);
    const refused = ++inFlight > limits.maxCallsInFlight;
    const timer = refused
      ? undefined
      : setTimeout(() => {
          log.warn({ method: method.path, peer, callTimeoutSeconds: limits.callTimeoutSeconds }, "call cancelled: not answered within the call timeout");
          guarded.sendStatus({
            code: grpc.status.DEADLINE_EXCEEDED,
            details: `function-model-cache: the call did not complete within ${limits.callTimeoutSeconds}s (--call-timeout)`,
          });
        }, limits.callTimeoutSeconds * 1000).unref();
    if (refused) {
      log.warn({ method: method.path, peer, inFlight: inFlight - 1, maxCallsInFlight: limits.maxCallsInFlight }, "call refused: too many calls in flight");
      // After the call is set up: a status sent from inside the interceptor would race its start.
      process.nextTick(() =>
        guarded.sendStatus({ code: grpc.status.RESOURCE_EXHAUSTED, details: `function-model-cache is serving ${limits.maxCallsInFlight} calls; retry later` }),
      );
    }
    return guarded;
  };
  return { interceptor, inFlight: () => inFlight };
}
