// Which images may run the hydration Jobs: a digest always, a tag other than
// latest as the platform's choice, never latest or nothing.
import { describe, expect, it } from "vitest";
import { checkImage, pinnedByDigest } from "./image.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("checkImage", () => {
  const cases: [ref: string, ok: boolean, pinned: boolean, reason: string][] = [
    [`ghcr.io/function-model-cache/function-model-cache@${D}`, true, true, "the released default: pinned by digest"],
    [`ghcr.io/org/img:v1.2.3@${D}`, true, true, "a tag beside a digest: the digest decides"],
    [`ghcr.io/org/img:latest@${D}`, true, true, "even latest, when a digest pins the bytes"],
    [`localhost:5000/img@${D}`, true, true, "a registry with a port"],
    ["registry.example/hydrator:v9", true, false, "another tag: accepted, the platform engineer's choice"],
    ["ghcr.io/org/img:latest", false, false, ":latest moves under a running fleet"],
    ["ghcr.io/org/img", false, false, "no tag means latest"],
    ["img", false, false, "a bare name is latest on Docker Hub"],
    ["ghcr.io/org/img:", false, false, "an empty tag"],
    ["ghcr.io/org/img@sha256:abc", false, false, "a truncated digest"],
    ["ghcr.io/Org/img:v1", false, false, "an uppercase repository is not a reference"],
    ["ghcr.io/org/img:v1 --privileged", false, false, "whitespace: not a reference"],
  ];
  it.each(cases)("%s -> ok %s, pinned %s (%s)", (ref, ok, pinned) => {
    const c = checkImage(ref);
    expect(c.ok).toBe(ok);
    if (!c.ok) expect(c.error.length).toBeGreaterThan(0);
    expect(pinnedByDigest(ref)).toBe(pinned);
  });
});
