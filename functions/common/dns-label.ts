// Kubernetes names that must be DNS labels (63 characters, [a-z0-9-]): a name
// that had to be shortened or cleaned carries a hash of what it was built
// from, so two never collide.
import { DNS_LABEL } from "../api/k8s.ts";
import { sha256Hex } from "./canonical-json.ts";

export const MAX_NAME = 63;

/** Lowercase, every run of other characters a '-'. */
export function cleanLabel(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

/** `stem` as a DNS label of at most 63 characters; hash-suffixed whenever it had to change. */
export function dnsLabel(stem: string, ...identity: string[]): string {
  if (stem.length <= MAX_NAME && DNS_LABEL.test(stem)) return stem;
  const suffix = `-${sha256Hex(identity.join("\u0000")).slice(0, 8)}`;
  const head = cleanLabel(stem)
    .slice(0, MAX_NAME - suffix.length)
    .replace(/^-+|-+$/g, "");
  return `${head === "" ? "x" : head}${suffix}`;
}
