// Issue 9, item 9: the hydrator image was pinned by tag only, and :latest was
// accepted. Every place an image is named refuses :latest and a missing tag,
// naming the place: --hydrator-image and its environment variable (the real
// server, started), the Input's hydratorImage (the real server over gRPC), and
// a replica's spec (its XRD). With TLS the server will not start without an
// image: the released image sets one by digest.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fleet, modelCache, request as fleetRequest } from "../support/fleet-builders.ts";
import { BIN, ROOT } from "../support/function-server.ts";
import { call, fatals, realFunction } from "./tenancy-support.ts";

const fn = realFunction();
const PINNED = `ghcr.io/function-model-cache/function-model-cache@sha256:${"a".repeat(64)}`;

/** `serve` with these arguments and environment, until it exits (it should, at once) or 20 s pass. */
function serve(args: string[], env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "serve", "--address", "127.0.0.1:0", ...args], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, err });
    });
  });
}

describe("the server refuses to start with an image that can move", () => {
  it.each([
    [["--insecure", "--hydrator-image", "ghcr.io/org/hydrator:latest"], {}, "--hydrator-image: is :latest"],
    [["--insecure", "--hydrator-image", "ghcr.io/org/hydrator"], {}, "--hydrator-image: names no tag and no digest"],
    [["--insecure"], { FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE: "ghcr.io/org/hydrator:latest" }, "--hydrator-image: is :latest"],
    [["--tls-certs-dir", "/nonexistent"], {}, "--hydrator-image: no hydrator image"],
  ] as const)("%j %j", async (args, env, want) => {
    const r = await serve([...args], env);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(want);
  });
});

describe("the Input's hydratorImage", () => {
  it.each([
    ["ghcr.io/org/hydrator:latest", "input.hydratorImage: is :latest"],
    ["ghcr.io/org/hydrator", "input.hydratorImage: names no tag and no digest"],
  ])("%s is refused with a Fatal naming the field", async (image, want) => {
    const input = { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", hydratorImage: image };
    const a = await call(fn.client(), fleetRequest(modelCache(), { clusters: fleet(), input }));
    expect(fatals(a)[0]?.message).toContain(want);
    expect(Object.keys(a.desired)).toEqual([]);
  });

  it("a digest is used as given in the replica contract", async () => {
    const input = { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", hydratorImage: PINNED };
    const a = await call(fn.client(), fleetRequest(modelCache(), { clusters: fleet(), input }));
    expect(fatals(a)).toEqual([]);
    const contract = Object.values(a.desired).find((r) => r["kind"] === "ConfigMap");
    expect(JSON.parse(String((contract?.["data"] as Record<string, unknown>)["contract.json"]))).toMatchObject({ hydratorImage: PINNED });
  });
});

describe("a ModelCacheReplica's hydratorImage, in its XRD", () => {
  const xrd = parse(readFileSync(join(ROOT, "apis/modelcachereplicas/definition.yaml"), "utf8")) as {
    spec: {
      versions: {
        schema: { openAPIV3Schema: { properties: { spec: { properties: { hydratorImage: { "x-kubernetes-validations"?: { rule: string }[] } } } } } };
      }[];
    };
  };
  it("carries the rule that refuses :latest and a missing tag", async () => {
    const { evaluate } = await import("@marcbachmann/cel-js");
    const rules = xrd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.hydratorImage["x-kubernetes-validations"] ?? [];
    expect(rules.length).toBe(1);
    const ok = (self: string): boolean => rules.every((r) => evaluate(r.rule, { self }) === true);
    expect(ok(PINNED)).toBe(true);
    expect(ok("registry.example:5000/hydrator:v9")).toBe(true);
    expect(ok("ghcr.io/org/hydrator:latest")).toBe(false);
    expect(ok("ghcr.io/org/hydrator")).toBe(false);
    expect(ok("registry.example:5000/hydrator")).toBe(false);
  });
});
