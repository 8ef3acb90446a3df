// s3: a prefix (or one object) in an S3 bucket, on AWS or any S3-compatible
// server. A prefix can change under us: pinned to the object versions the
// first cluster verified.
import { z } from "zod";
import { DNS_LABEL, LocalObjectReference } from "../api/k8s.ts";
import { redactUri } from "../api/redact.ts";
import { credentialFreeUrl } from "../api/source-fields.ts";
import { argsOnly, secretEnv, type SourceKind } from "./kind.ts";

export const S3Source = z
  .object({
    uri: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, "must be s3://<bucket>/<prefix>"),
    region: z.string().min(1).max(64).optional(),
    endpoint: credentialFreeUrl("spec.artifact.source.s3.credentialsSecretRef", { endpoint: true }).optional().describe("Any S3-compatible endpoint."),
    pathStyle: z.boolean().optional().describe("Address the bucket in the path, as most S3-compatible servers want."),
    credentialsSecretRef: LocalObjectReference.optional().describe(
      "Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and optionally AWS_SESSION_TOKEN).",
    ),
  })
  .strict();

/** The hydrator flags s3 adds (the plan sets them; the fetcher reads them). */
export const S3_FLAGS = {
  s3Region: { name: "s3-region", type: "string" },
  s3PathStyle: { name: "s3-path-style", type: "boolean" },
} as const;

export const s3: SourceKind<typeof S3Source, typeof S3_FLAGS, true> = {
  key: "s3",
  schema: S3Source,
  identity: (s) => ({ s3: { uri: s.uri, endpoint: s.endpoint ?? null, region: s.region ?? null } }),
  line: (s) => redactUri(s.uri),
  immutableRevision: () => undefined,
  revisionComparable: false,
  fetches(s, at) {
    if (s.endpoint !== undefined) return [{ field: `${at}.s3.endpoint`, url: s.endpoint, defaulted: false }];
    const region = s.region ?? "us-east-1";
    const url = DNS_LABEL.test(region) ? `https://s3.${region}.amazonaws.com` : undefined;
    return [s.region !== undefined ? { field: `${at}.s3.region`, url, defaulted: false } : { field: `${at}.s3`, url, defaulted: true }];
  },
  credential: {
    destinations: {
      default: ["https://s3.*.amazonaws.com"],
      description: "Where s3 credentialsSecretRef may be sent: the endpoint, or https://s3.<region>.amazonaws.com when none is set.",
    },
    sent: (s, at) => (s.credentialsSecretRef !== undefined ? { secretField: `${at}.s3.credentialsSecretRef` } : undefined),
  },
  flags: S3_FLAGS,
  plan(s) {
    const plan = argsOnly({
      source: s.uri,
      ...(s.region ? { s3Region: s.region } : {}),
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      ...(s.pathStyle ? { s3PathStyle: true } : {}),
    });
    if (!s.credentialsSecretRef) return { ok: true, value: plan };
    const secret = s.credentialsSecretRef.name;
    const env = [
      secretEnv("AWS_ACCESS_KEY_ID", secret, "AWS_ACCESS_KEY_ID"),
      secretEnv("AWS_SECRET_ACCESS_KEY", secret, "AWS_SECRET_ACCESS_KEY"),
      secretEnv("AWS_SESSION_TOKEN", secret, "AWS_SESSION_TOKEN", true),
    ];
    return { ok: true, value: { ...plan, env, secrets: [secret] } };
  },
  fetcher: {
    schemes: ["s3"],
    usage: ["--source s3://bucket/prefix             (AWS_* credentials, --endpoint, --s3-region, --s3-path-style)"],
    // The AWS SDK is the largest module the hydrator has (tens of MiB of RSS): only an s3:// Job loads it.
    async create(uri, req) {
      const { createS3Source } = await import("../hydrator/sources/s3.ts");
      const s = createS3Source({
        uri,
        env: req.env,
        ...(req.endpoint ? { endpoint: req.endpoint } : {}),
        ...(req.s3Region ? { region: req.s3Region } : {}),
        ...(req.s3PathStyle ? { forcePathStyle: true } : {}),
        ...(req.refusedAddresses ? { refusedAddresses: req.refusedAddresses } : {}),
      });
      return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
    },
  },
};
