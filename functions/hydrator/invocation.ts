// The hydrator's command line as data, defined once. The function builds a
// HydrateArgs for every Job and writes it as argv (hydrateArgv); the CLI reads
// argv back into the same type (readHydrateArgv) before checking the values.
// A field added to HydrateArgs must be added to the flag table (the table is
// typed by it), so the two ends cannot drift apart; test/contract/job-args
// checks every Job the function composes against the real parser as well.
// A source kind's own flags (a region, an addressing switch) are declared in
// its module (functions/sources/<kind>.ts) and merged in from the registry.
import { KIND_FLAGS, type KindArgs } from "../sources/registry.ts";

/** A flag: its name on the command line and how node:util parseArgs reads it. */
type FlagSpec = { name: string; type: "string"; multiple?: true } | { name: string; type: "boolean" };

/** The arguments every Job may carry, whatever its source's kind. */
interface CoreArgs {
  source?: string;
  files?: string;
  inline?: string;
  sha256?: string;
  include?: string[];
  exclude?: string[];
  endpoint?: string;
  dest?: string;
  layout?: string;
  concurrency?: string;
  chunkSize?: string;
  stallTimeout?: string;
  attempts?: string;
  caFile?: string;
  progress?: string;
  output?: string;
  refuseAddresses?: string;
  expectManifestDigest?: string;
  reportConfigMap?: string;
  terminationLog?: string;
  refresh?: boolean;
}

/** Every argument of `hydrate`, each as the flag's value (strings as given: the CLI checks them). */
export type HydrateArgs = CoreArgs & KindArgs;

/** The arguments that name the source: what a source kind's plan gives the Job (sources/), its own flags included. */
export type HydrateSourceArgs = Pick<CoreArgs, "source" | "files" | "sha256" | "include" | "exclude" | "endpoint"> & KindArgs;

type FlagTable<A> = { [K in keyof Required<A>]: FlagSpec & { type: Required<A>[K] extends boolean ? "boolean" : "string" } };

const CORE_FLAGS = {
  source: { name: "source", type: "string" },
  files: { name: "files", type: "string" },
  inline: { name: "inline", type: "string" },
  sha256: { name: "sha256", type: "string" },
  include: { name: "include", type: "string", multiple: true },
  exclude: { name: "exclude", type: "string", multiple: true },
  endpoint: { name: "endpoint", type: "string" },
  dest: { name: "dest", type: "string" },
  layout: { name: "layout", type: "string" },
  concurrency: { name: "concurrency", type: "string" },
  chunkSize: { name: "chunk-size", type: "string" },
  stallTimeout: { name: "stall-timeout", type: "string" },
  attempts: { name: "attempts", type: "string" },
  caFile: { name: "ca-file", type: "string" },
  progress: { name: "progress", type: "string" },
  output: { name: "output", type: "string" },
  refuseAddresses: { name: "refuse-addresses", type: "string" },
  expectManifestDigest: { name: "expect-manifest-digest", type: "string" },
  reportConfigMap: { name: "report-configmap", type: "string" },
  terminationLog: { name: "termination-log", type: "string" },
  refresh: { name: "refresh", type: "boolean" },
} as const satisfies FlagTable<CoreArgs>;

/** Every flag of `hydrate`: the core ones, then each source kind's own. */
export const HYDRATE_FLAGS: FlagTable<HydrateArgs> = { ...CORE_FLAGS, ...KIND_FLAGS };

/** `verify`'s flags: the subset of hydrate's that checks a published artifact. */
export type VerifyArgs = Pick<HydrateArgs, "progress" | "output" | "expectManifestDigest" | "reportConfigMap" | "terminationLog">;
export const VERIFY_FLAG_KEYS = [
  "progress",
  "output",
  "expectManifestDigest",
  "reportConfigMap",
  "terminationLog",
] as const satisfies readonly (keyof VerifyArgs)[];

type Key = keyof HydrateArgs;

/**
 * The argv for `args`, in the order its fields were set (so a Job's argument list reads source first, then where
 * and how): `--flag value` per string (`--flag=value` when the value starts with '-'), `--flag` per true boolean,
 * one per list item.
 */
export function hydrateArgv(args: HydrateArgs): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(args) as [Key, HydrateArgs[Key]][]) {
    if (value === undefined || value === false) continue;
    const flag = `--${HYDRATE_FLAGS[key].name}`;
    // parseArgs refuses `--flag -x` as ambiguous: a value starting with '-' (a glob, a region) is joined with '='.
    const pair = (v: string) => (v.startsWith("-") ? out.push(`${flag}=${v}`) : out.push(flag, v));
    if (value === true) out.push(flag);
    else if (Array.isArray(value)) value.forEach(pair);
    else pair(value);
  }
  return out;
}

/** The options node:util parseArgs takes for `keys` (every hydrate flag by default). */
export function parseArgsOptions(
  keys: readonly Key[] = Object.keys(HYDRATE_FLAGS) as Key[],
): Record<string, { type: "string" | "boolean"; multiple?: boolean }> {
  const out: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const key of keys) {
    const f: FlagSpec = HYDRATE_FLAGS[key];
    out[f.name] = f.type === "string" && f.multiple ? { type: "string", multiple: true } : { type: f.type };
  }
  return out;
}

/** parseArgs' values (by flag name) as HydrateArgs (by field), for `keys`. */
export function argsFromValues(
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
  keys: readonly Key[] = Object.keys(HYDRATE_FLAGS) as Key[],
): HydrateArgs {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = values[HYDRATE_FLAGS[key].name];
    if (v !== undefined) out[key] = v;
  }
  return out as HydrateArgs;
}
