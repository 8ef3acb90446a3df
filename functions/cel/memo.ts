// Quantity and Semver values are immutable, and the same few strings recur on every device of a
// fleet ("81559Mi", "580.126.20") and in every evaluation (`quantity("80G")` inside a loop runs once
// per device). Parsing each distinct string once is the cheapest speed-up there is.

const MAX_ENTRIES = 4096;

/** Memoize a one-string parser; failures are not cached (they throw each time, as they should). */
export function memoizeParse<T>(parse: (s: string) => T): (s: string) => T {
  const cache = new Map<string, T>();
  return (s: string) => {
    const hit = cache.get(s);
    if (hit !== undefined) return hit;
    const v = parse(s);
    // Bounded: a flood of distinct strings resets the cache rather than growing it.
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(s, v);
    return v;
  };
}
