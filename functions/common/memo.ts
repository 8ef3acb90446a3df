// Parsing each distinct string once. CEL's Quantity and Semver values are immutable, and the same few strings
// recur on every device of a fleet ("81559Mi", "580.126.20") and in every evaluation (`quantity("80G")` inside a
// loop runs once per device). The composition's Input and a ModelCache's spec recur on every reconcile of the
// same XR (fleet/parse.ts).

const MAX_ENTRIES = 4096;

/** Memoize a one-string parser, at most `maxEntries` strings; failures that throw are not cached (they throw each time, as they should). */
export function memoizeParse<T>(parse: (s: string) => T, maxEntries = MAX_ENTRIES): (s: string) => T {
  const cache = new Map<string, T>();
  return (s: string) => {
    const hit = cache.get(s);
    if (hit !== undefined) return hit;
    const v = parse(s);
    // Bounded: a flood of distinct strings resets the cache rather than growing it.
    if (cache.size >= maxEntries) cache.clear();
    cache.set(s, v);
    return v;
  };
}

/** `v` and everything it holds made read-only: a value shared between calls cannot be changed by one of them. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
