// huggingFace: a repo on the Hugging Face hub (or a mirror) at a branch, tag
// or commit. A commit pins itself; a branch or tag is pinned to the commit the
// first cluster verified.
import { z } from "zod";
import { SecretKeyReference } from "../api/k8s.ts";
import { credentialFreeUrl, GLOB } from "../api/source-fields.ts";
import { argsOnly, secretEnv, type NoFlags, type SourceKind } from "./kind.ts";

export const HF_DEFAULT_ENDPOINT = "https://huggingface.co";

/** A repo id as the hub spells it: `org/name`, no `..`, no leading/trailing separator. */
const HF_REPO = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/;
const COMMIT = /^[0-9a-f]{40}$/;
/**
 * A branch, tag or commit: no whitespace, control characters or '..' (git refuses those in ref names; the hydrator
 * refuses them too). RE2-compatible, so the XRD enforces it as well.
 */
// eslint-disable-next-line no-control-regex
const REVISION = /^([^.\s\x00-\x1f\x7f]|\.[^.\s\x00-\x1f\x7f])+\.?$/;

export const HuggingFaceSource = z
  .object({
    repo: z.string().regex(HF_REPO, "must be a Hugging Face repo id such as Qwen/Qwen3-8B"),
    revision: z
      .string()
      .min(1)
      .max(255)
      .regex(REVISION, "must not contain whitespace, control characters or '..'")
      .default("main")
      .describe("Branch, tag or commit. A branch or tag is resolved to a commit once and pinned."),
    include: z.array(GLOB).max(64).optional().describe("Only files matching one of these globs."),
    exclude: z.array(GLOB).max(64).optional().describe("Skip files matching any of these globs."),
    tokenSecretRef: SecretKeyReference.optional().describe("Secret holding the hub token; key defaults to `token`."),
    endpoint: credentialFreeUrl("spec.artifact.source.huggingFace.tokenSecretRef", { endpoint: true })
      .optional()
      .describe("Hub endpoint, for a mirror; defaults to the public hub."),
  })
  .strict();

export const huggingFace: SourceKind<typeof HuggingFaceSource, NoFlags, true> = {
  key: "huggingFace",
  schema: HuggingFaceSource,
  identity: (hf) => ({ huggingFace: { repo: hf.repo, revision: hf.revision, include: hf.include ?? null, exclude: hf.exclude ?? null } }),
  line: (hf) => `hf://${hf.repo}@${hf.revision}`,
  immutableRevision: (hf) => (COMMIT.test(hf.revision) ? hf.revision : undefined),
  revisionComparable: true,
  fetches: (hf, at) => [
    hf.endpoint !== undefined
      ? { field: `${at}.huggingFace.endpoint`, url: hf.endpoint, defaulted: false }
      : { field: `${at}.huggingFace`, url: HF_DEFAULT_ENDPOINT, defaulted: true },
  ],
  credential: {
    destinations: {
      default: ["https://huggingface.co"],
      description: "Where a huggingFace tokenSecretRef may be sent: the endpoint, or https://huggingface.co when none is set.",
    },
    sent: (hf, at) => (hf.tokenSecretRef !== undefined ? { secretField: `${at}.huggingFace.tokenSecretRef` } : undefined),
  },
  plan(hf, { pinnedRevision }) {
    // A pinned commit replaces a branch or tag: every cluster fetches the same commit.
    const rev = pinnedRevision !== undefined && COMMIT.test(pinnedRevision) ? pinnedRevision : hf.revision;
    const plan = argsOnly({
      source: `hf://${hf.repo}@${rev}`,
      ...(hf.include?.length ? { include: [...hf.include] } : {}),
      ...(hf.exclude?.length ? { exclude: [...hf.exclude] } : {}),
      ...(hf.endpoint ? { endpoint: hf.endpoint } : {}),
    });
    if (!hf.tokenSecretRef) return { ok: true, value: plan };
    const secret = hf.tokenSecretRef.name;
    return { ok: true, value: { ...plan, env: [secretEnv("HF_TOKEN", secret, hf.tokenSecretRef.key ?? "token")], secrets: [secret] } };
  },
  fetcher: {
    schemes: ["hf"],
    usage: ["--source hf://<org>/<repo>[@revision]   Hugging Face hub (token: HF_TOKEN; endpoint: --endpoint or HF_ENDPOINT)"],
    async create(uri, req) {
      const { createHfSource } = await import("../hydrator/sources/hf.ts");
      const s = createHfSource({ uri, env: req.env, ...(req.endpoint ? { endpoint: req.endpoint } : {}) });
      return s.ok ? { ok: true, value: { source: s.value, reference: s.value.reference() } } : s;
    },
  },
};
