import { describe, expect, it } from "vitest";
import { parseServeFlags } from "./flags.ts";

describe("parseServeFlags", () => {
  const PINNED = `ghcr.io/function-model-cache/function-model-cache@sha256:${"a".repeat(64)}`;
  const PINNED_ENV = { FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE: PINNED };
  const cases = [
    { reason: "defaults match Crossplane's function-sdk-go", args: ["--insecure"], env: {}, want: { address: "0.0.0.0:9443", maxRecvMessageSizeMiB: 4, insecure: true, debug: false } },
    { reason: "the certificates directory comes from TLS_SERVER_CERTS_DIR", args: [], env: { TLS_SERVER_CERTS_DIR: "/tls/server", ...PINNED_ENV }, want: { tlsCertsDir: "/tls/server", insecure: false } },
    { reason: "the flag wins over the environment", args: ["--tls-certs-dir", "/a"], env: { TLS_SERVER_CERTS_DIR: "/b", ...PINNED_ENV }, want: { tlsCertsDir: "/a" } },
    { reason: "the hydrator image comes from the environment the released image sets", args: ["--tls-certs-dir", "/a"], env: PINNED_ENV, want: { hydratorImage: PINNED } },
    { reason: "a tag other than latest is the platform's choice", args: ["--insecure", "--hydrator-image", "registry.example/hydrator:v9"], env: {}, want: { hydratorImage: "registry.example/hydrator:v9" } },
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
    { reason: "a :latest hydrator image", args: ["--insecure", "--hydrator-image", "ghcr.io/org/img:latest"], error: /^--hydrator-image: is :latest/ },
    { reason: "a hydrator image with no tag and no digest", args: ["--insecure", "--hydrator-image", "ghcr.io/org/img"], error: /^--hydrator-image: names no tag and no digest/ },
    { reason: "TLS with no hydrator image (an image built without its hydrator's digest)", args: ["--tls-certs-dir", "/a"], error: /^--hydrator-image: no hydrator image/ },
  ];
  it.each(bad)("refuses $reason", ({ args, error }) => {
    const r = parseServeFlags(args, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});
