// What bounds a call around the handler: a deadline from the moment its
// headers arrive (so a stream that sends half a message and stalls is
// cancelled, and what it buffered is dropped), and a ceiling on calls in
// flight across every connection. Both answer with a gRPC status and a log
// line; the handler never sees such a call. HTTP/2's own limits (streams per
// connection, session memory, keepalive, idle connections) are in http2Options.
// And the memory budget (memory-budget.ts): a call is admitted from the
// length its body declares, before the body is buffered, or refused with
// RESOURCE_EXHAUSTED; its reservation is given back when its status is sent.
import { constants as http2Constants, type Http2Session, type ServerHttp2Stream } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { assembleOnce, type MessageSink, type StreamMessage } from "./assemble.ts";
import type { Logger } from "./logger.ts";
import type { MemoryBudget } from "./memory-budget.ts";

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

/**
 * The HTTP/2 receive window the server gives each connection and each stream, in place of the protocol's 64 KiB:
 * a client may send this much before it waits for the server to read. With 64 KiB a 308 MiB request waits for the
 * server ~4,900 times (one window update per 64 KiB); 1 MiB halves a bare grpc-js server's time over loopback, larger ones gain
 * nothing more (docs/benchmarks.md, "The transport"). The server reads every stream as it arrives, so the window
 * does not raise what it holds, except that a refused call may have sent up to this much more before it is reset.
 */
export const RECEIVE_WINDOW_BYTES = 1024 * 1024;

/** Gives a connection RECEIVE_WINDOW_BYTES (grpc-js has no server option for it): once, on its first call. */
function widenWindow(session: Http2Session | undefined, widened: WeakSet<Http2Session>): void {
  if (!session || widened.has(session) || session.destroyed || session.closed) return;
  widened.add(session);
  try {
    // The connection's window now, and every stream's (this one's too: a change applies to streams already open).
    session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
    session.settings({ initialWindowSize: RECEIVE_WINDOW_BYTES });
  } catch {
    // The session is closing: its calls end anyway.
  }
}

export interface CallGuard {
  interceptor: grpc.ServerInterceptor;
  inFlight(): number;
}

/**
 * The HTTP/2 stream under grpc-js's call, to read the message's length as it arrives. grpc-js does not expose it; its
 * first call object holds it as `stream` (1.10 on). Without it calls are admitted once their message is in.
 */
function streamOf(call: grpc.ServerInterceptingCallInterface): ServerHttp2Stream | undefined {
  const stream = (call as unknown as { stream?: unknown }).stream;
  return typeof stream === "object" && stream !== null && typeof (stream as ServerHttp2Stream).on === "function" && "session" in stream
    ? (stream as ServerHttp2Stream)
    : undefined;
}

/** Calls to this method are admitted against the memory budget (health checks are not: they must always be answered). */
export interface Budgeted {
  budget: MemoryBudget;
  /** Only calls to this method path. */
  path: string;
  /** Larger messages grpc-js refuses itself (--max-recv-message-size): nothing to reserve for them. */
  maxRecvBytes: number;
}

/** Messages of this method and at least this long go to a sink as they arrive (incoming.ts), not assembled whole. */
export interface Streamed {
  path: string;
  fromBytes: number;
  /** A sink for a call's message of `total` bytes; `refuse` ends the call with a status and stops the client sending. */
  open(total: number, call: { deadlineMs: number; refuse(status: { code: grpc.status; details: string }): void }): MessageSink;
}

export function callGuard(limits: CallLimits, log: Logger, budgeted?: Budgeted, streamed?: Streamed): CallGuard {
  let inFlight = 0;
  let warnedNoStream = false;
  let warnedNoDecoder = false;
  const widened = new WeakSet<Http2Session>();
  const interceptor: grpc.ServerInterceptor = (method, call) => {
    const peer = call.getPeer();
    let sink: MessageSink | undefined;
    const refuse = (status: { code: grpc.status; details: string }) => {
      guarded.sendStatus(status);
      const stream = streamOf(call);
      setImmediate(() => {
        if (stream && !stream.closed && !stream.destroyed) stream.close(http2Constants.NGHTTP2_NO_ERROR);
      });
    };
    const toSink: StreamMessage | undefined =
      streamed !== undefined && method.path === streamed.path
        ? (total) => {
            if (finished || total < streamed.fromBytes) return undefined;
            const deadline = call.getDeadline();
            const deadlineMs = Math.min(deadline instanceof Date ? deadline.getTime() : deadline, Date.now() + limits.callTimeoutSeconds * 1000);
            sink = streamed.open(total, { deadlineMs, refuse });
            return sink;
          }
        : undefined;
    // Before any of its bytes are read: the message assembled once (assemble.ts), or walked as it arrives, over a wider window.
    const assembler = assembleOnce(call, toSink);
    if (!assembler && !warnedNoDecoder) {
      warnedNoDecoder = true;
      log.warn("grpc-js does not show a call's decoder: a request is held twice while it is assembled (grpc-js's own decoder)");
    }
    widenWindow(streamOf(call)?.session, widened);
    let finished = false;
    let release: (() => void) | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      inFlight--;
      clearTimeout(timer);
      release?.();
      // A streamed request still arriving is dropped, here and on its worker; one waiting for a worker leaves the queue.
      assembler?.abort();
      sink?.abort();
    };
    /**
     * Reserve the call's memory for a message of `bytes` (`compressed`: inflated whole by grpc-js, never walked);
     * false when the call is over (answered, or now refused).
     */
    const admit = (bytes: number, compressed: boolean): boolean => {
      if (finished) return false;
      if (!budgeted || method.path !== budgeted.path || release || bytes > budgeted.maxRecvBytes) return true;
      const walked = !compressed && streamed !== undefined && method.path === streamed.path && bytes >= streamed.fromBytes;
      const admission = budgeted.budget.admit(bytes, walked);
      if (admission.ok) {
        release = admission.release;
        return true;
      }
      log.warn(
        {
          method: method.path,
          peer,
          requestBytes: bytes,
          costMiB: Math.ceil(admission.costBytes / 2 ** 20),
          inUseMiB: Math.ceil(admission.inUseBytes / 2 ** 20),
          memoryBudgetMiB: Math.floor(budgeted.budget.budgetBytes / 2 ** 20),
        },
        admission.alone ? "call refused: its request alone needs more than the memory budget" : "call refused: the memory budget is in use by other calls",
      );
      guarded.sendStatus({ code: grpc.status.RESOURCE_EXHAUSTED, details: admission.message });
      return false;
    };
    const responder = new grpc.ResponderBuilder()
      .withStart((next) =>
        next(
          new grpc.ServerListenerBuilder()
            .withOnCancel(finish)
            // Where the length could not be read as the body arrived, the whole message is in: admitted now, or refused.
            .withOnReceiveMessage((message: unknown, nextMessage) => {
              // Whole, as grpc-js assembled it: reserved as a whole request.
              if (admit(Buffer.isBuffer(message) ? message.length : 0, true)) nextMessage(message);
            })
            .build(),
        ),
      )
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
    if (!refused && budgeted && method.path === budgeted.path) {
      const stream = streamOf(call);
      if (stream) admitOnArrival(stream, admit);
      else if (!warnedNoStream) {
        warnedNoStream = true;
        log.warn("grpc-js does not show a call's stream: calls are admitted against --memory-budget once their message has arrived, not as it starts");
      }
    }
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

/**
 * Reads the gRPC message prefix (a flag byte, then the length, 4 bytes big-endian) from the first bytes of the body
 * and admits the call for that length before the rest is buffered; a refused call's stream is reset, so the client
 * stops sending and what arrived is dropped.
 */
function admitOnArrival(stream: ServerHttp2Stream, admit: (bytes: number, compressed: boolean) => boolean): void {
  let prefix = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    prefix = Buffer.concat([prefix, chunk.subarray(0, 5 - prefix.length)]);
    if (prefix.length < 5) return;
    stream.off("data", onData);
    if (!admit(prefix.readUInt32BE(1), prefix[0] !== 0))
      setImmediate(() => {
        if (!stream.closed && !stream.destroyed) stream.close(http2Constants.NGHTTP2_NO_ERROR);
      });
  };
  stream.on("data", onData);
}
