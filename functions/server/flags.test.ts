import { describe, expect, it } from "vitest";
import { parseServeFlags } from "./flags.ts";

describe("parseServeFlags", () => {
  const cases = [
    { reason: "defaults match Crossplane's function-sdk-go", args: ["--insecure"], env: {}, want: { address: "0.0.0.0:9443", maxRecvMessageSizeMiB: 4, insecure: true, debug: false } },
    { reason: "the certificates directory comes from TLS_SERVER_CERTS_DIR", args: [], env: { TLS_SERVER_CERTS_DIR: "/tls/server" }, want: { tlsCertsDir: "/tls/server", insecure: false } },
    { reason: "the flag wins over the environment", args: ["--tls-certs-dir", "/a"], env: { TLS_SERVER_CERTS_DIR: "/b" }, want: { tlsCertsDir: "/a" } },
    { reason: "-d is --debug", args: ["--insecure", "-d"], env: {}, want: { debug: true } },
    { reason: "the receive limit is in MiB", args: ["--insecure", "--max-recv-message-size", "16"], env: {}, want: { maxRecvMessageSizeMiB: 16 } },
  ];
  it.each(cases)("$reason", ({ args, env, want }) => {
    const r = parseServeFlags(args, env);
    expect(r).toMatchObject({ ok: true, config: want });
  });

  const bad = [
    { reason: "no credentials and not insecure", args: [], error: /refusing to start without credentials/ },
    { reason: "an unknown flag", args: ["--insecure", "--nope"], error: /nope/ },
    { reason: "a receive limit that is not a number", args: ["--insecure", "--max-recv-message-size", "lots"], error: /^--max-recv-message-size: / },
    { reason: "an address without a port", args: ["--insecure", "--address", "localhost"], error: /--address: must be host:port/ },
  ];
  it.each(bad)("refuses $reason", ({ args, error }) => {
    const r = parseServeFlags(args, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});
