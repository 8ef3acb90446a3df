// The hydrator image: what every hydration Job on every cluster runs, with
// the cluster's volume mounted writable and the source's credentials in its
// environment. It must not change under a running fleet: `:latest` (or no
// tag at all, which means latest) is refused wherever an image is named (the
// Input's hydratorImage, --hydrator-image, a replica's spec). A digest
// (`image@sha256:...`) pins the bytes and is what the released function sets
// by default (docs/hydrator.md, "The hydrator image"); another tag is accepted
// as the platform engineer's choice.
import { z } from "zod";
import type { Checked } from "../common/checked.ts";

/**
 * registry[:port]/repository[:tag][@sha256:digest], after the distribution
 * reference grammar: lowercase path components, a tag of up to 128
 * characters, a sha256 digest.
 */
const REFERENCE =
  /^(?<name>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[0-9a-f]{64}))?$/;

export interface ImageReference {
  name: string;
  tag?: string;
  digest?: string;
}

export type CheckedImage = Checked<ImageReference>;

/** The reference, or why it may not run the hydration Jobs. */
export function checkImage(ref: string): CheckedImage {
  const m = REFERENCE.exec(ref);
  if (m?.groups?.["name"] === undefined) return { ok: false, error: "must be an image reference such as registry.example.com/org/image@sha256:<digest>" };
  const { name, tag, digest } = m.groups;
  if (digest !== undefined) return { ok: true, value: { name, ...(tag !== undefined ? { tag } : {}), digest } };
  if (tag === undefined) return { ok: false, error: "names no tag and no digest, which means :latest: pin it by digest (image@sha256:<digest>)" };
  if (tag === "latest") return { ok: false, error: "is :latest, which changes under a running fleet: pin it by digest (image@sha256:<digest>)" };
  return { ok: true, value: { name, tag } };
}

/** Whether the reference pins the bytes (a digest), not only a name that can move (a tag). */
export function pinnedByDigest(ref: string): boolean {
  const c = checkImage(ref);
  return c.ok && c.value.digest !== undefined;
}

/** The same refusal for the API server (a replica's spec, the Input's CRD), in CEL over RE2. */
const PINNED_RULE = "self.matches('@sha256:[0-9a-f]{64}$') || (self.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$') && !self.endsWith(':latest'))";

export const HydratorImage = z
  .string()
  .min(1)
  .max(512)
  .superRefine((ref, ctx) => {
    const c = checkImage(ref);
    if (!c.ok) ctx.addIssue({ code: "custom", message: c.error });
  })
  .meta({
    "x-kubernetes-validations": [{ rule: PINNED_RULE, message: "must be pinned: image@sha256:<digest> (or a tag other than latest), never :latest or no tag" }],
  });
