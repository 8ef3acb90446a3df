import { describe, expect, it } from "vitest";
import { formatRecord, parseRecord } from "./record.ts";
import { mayMount, parseCacheRef, requirementKey } from "./refs.ts";

describe("parseCacheRef", () => {
  const cases = [
    {
      reason: "a bare name is in the consumer's namespace",
      written: "qwen3-8b",
      want: { ok: true, value: { namespace: "ml-team", name: "qwen3-8b", ref: "ml-team/qwen3-8b" } },
    },
    {
      reason: "namespace/name names another namespace",
      written: "shared/qwen3.8b",
      want: { ok: true, value: { namespace: "shared", name: "qwen3.8b", ref: "shared/qwen3.8b" } },
    },
    {
      reason: "two slashes are refused",
      written: "a/b/c",
      want: { ok: false, error: 'modelcache.dev/caches: "a/b/c" is not a ModelCache name or namespace/name' },
    },
    {
      reason: "an upper-case name is refused",
      written: "Qwen",
      want: { ok: false, error: 'modelcache.dev/caches: "Qwen" is not a ModelCache name or namespace/name' },
    },
    {
      reason: "a dotted namespace is refused",
      written: "a.b/c",
      want: { ok: false, error: 'modelcache.dev/caches: "a.b/c" is not a ModelCache name or namespace/name' },
    },
  ];
  it.each(cases)("$reason", ({ written, want }) => expect(parseCacheRef(written, "ml-team")).toStrictEqual(want));
});

describe("mayMount", () => {
  const grants = [
    { controlPlaneNamespaces: ["ml-team"], cacheNamespace: "shared", caches: ["qwen3-8b"] },
    { controlPlaneNamespaces: ["research"], cacheNamespace: "shared", caches: ["*"] },
  ];
  const ref = (ns: string, name: string) => ({ namespace: ns, name, ref: `${ns}/${name}` });
  const cases = [
    { reason: "the consumer's own namespace needs no grant", consumer: "ml-team", r: ref("ml-team", "x"), allowed: true },
    { reason: "a granted cache", consumer: "ml-team", r: ref("shared", "qwen3-8b"), allowed: true },
    { reason: "another cache of the same namespace is not granted", consumer: "ml-team", r: ref("shared", "llama"), allowed: false },
    { reason: "* grants every cache of the namespace to its tenants only", consumer: "research", r: ref("shared", "llama"), allowed: true },
    { reason: "a grant to one tenant is not a grant to another", consumer: "other", r: ref("shared", "qwen3-8b"), allowed: false },
  ];
  it.each(cases)("$reason", ({ consumer, r, allowed }) => expect(mayMount(r, consumer, grants).allowed).toBe(allowed));
});

describe("the mount record", () => {
  it("round-trips, in cache order, with and without a digest", () => {
    const m = new Map([
      ["ml-team/tok", { namespace: "mc-ml-team", claimName: "tok-1", manifestDigest: undefined }],
      ["ml-team/qwen3-8b", { namespace: "mc-ml-team", claimName: "qwen3-8b-2a", manifestDigest: "sha256:ab" }],
    ]);
    const s = formatRecord(m);
    expect(s).toBe("ml-team/qwen3-8b=mc-ml-team/qwen3-8b-2a@sha256:ab;ml-team/tok=mc-ml-team/tok-1");
    expect(parseRecord(s)).toStrictEqual(new Map([...m.entries()].reverse()));
  });
  it("an entry that does not parse is left out, not guessed at", () => {
    expect([...parseRecord("garbage;ml-team/a=ns/c").keys()]).toStrictEqual(["ml-team/a"]);
  });
  it("requirement keys are unambiguous: the namespace ends at the first dot", () => {
    expect(requirementKey({ namespace: "a", name: "b.c", ref: "a/b.c" })).toBe("modelcache.a.b.c");
  });
});
