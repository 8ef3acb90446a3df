// Structured JSON logs (pino): one line per event, the request tag on every
// line about a call, so a RunFunction can be followed through Crossplane's logs.
import { pino, type Logger } from "pino";

export type { Logger };

export function newLogger(debug: boolean, destination?: pino.DestinationStream): Logger {
  const options = { level: debug ? "debug" : "info", base: { function: "function-model-cache" } };
  return destination ? pino(options, destination) : pino(options);
}

/** Writes whole lines (a worker's log lines) to where `log` writes its own, so the two never interleave. */
export function lineWriter(log: Logger): (line: string) => void {
  const stream = (log as unknown as Record<symbol, pino.DestinationStream | undefined>)[pino.symbols.streamSym];
  return stream ? (line) => stream.write(line) : (line) => process.stdout.write(line);
}
