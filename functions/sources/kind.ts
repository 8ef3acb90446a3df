// What a source kind is: everything the function knows about one way of
// getting bytes, in one module (functions/sources/<kind>.ts), registered once
// (registry.ts). The fleet asks a kind for the source's identity, its line
// for status and whether it pins itself; the tenancy checks ask where it
// connects and which credential it sends; the cluster level asks how it
// travels to the hydration Job. Nothing outside a kind's module tests which
// kind a source is.
import type { z } from "zod";
import type { HydrateSourceArgs } from "../hydrator/invocation.ts";
import type { CreatedSource, SourceRequest } from "../hydrator/sources/index.ts";
import type { Checked } from "../common/checked.ts";
import type { JsonObject, JsonValue } from "../sdk/types.ts";

/** Where source files (inline, ConfigMap, HTTP file list) are mounted in the Job. */
export const SOURCE_MOUNT = "/etc/modelcache/source";

/** One URL a source fetches, and the spec field that decides it. */
export interface Fetch {
  field: string;
  url: string | undefined;
  /** The URL is the source kind's default (no endpoint or region set): the field names the source. */
  defaulted: boolean;
}

/** The credential a source sends: the spec field naming its Secret, and where it goes. */
export interface Credential {
  secretField: string;
  /** The credential goes to every URL the source fetches, each checked (http); otherwise to its one origin. */
  everyUrl?: boolean;
}

/**
 * A kind that sends a credential: its allow-list in the Input (`tenancy.credentialDestinations.<kind key>`, built
 * from the registry: api/input.ts) and the credential a spec sends.
 */
export interface KindCredential<S extends z.ZodType> {
  /** The allow-list's default (patterns `scheme://host[:port]`, `*` one DNS label) and its description. */
  destinations: { default: readonly string[]; description: string };
  /** The credential the source sends, if any; `at` is the source's path. */
  sent(s: z.infer<S>, at: string): Credential | undefined;
}

/** A hydrator flag of a kind's own (a region, an addressing switch): its name on the command line and its type. */
export type KindFlag = { name: string; type: "string" } | { name: string; type: "boolean" };
export type KindFlags = Readonly<Record<string, KindFlag>>;
/** A kind with no flags of its own. */
export type NoFlags = Record<never, KindFlag>;
/** The values of a kind's flags, as the hydrator's arguments hold them (strings as given, booleans as set). */
export type FlagValues<F> = { -readonly [K in keyof F]?: F[K] extends { type: "boolean" } ? boolean : string };

/** What the cluster level knows when it plans the Job. */
export interface PlanContext {
  /** The revision the fleet pinned (spec.pin.resolvedRevision), which replaces a mutable reference. */
  pinnedRevision: string | undefined;
  /** The ConfigMap the function composes when the plan carries files to the Job. */
  sourceConfigMap: string;
  /**
   * The claim the Job mounts to read claim `claimName` in `namespace` (undefined: the cache's own namespace): the
   * claim itself in the Job's namespace, else the read-only bridge composed there, which has a name of its own.
   */
  claimSeenByJob(namespace: string | undefined, claimName: string): string;
}

/** How the source travels to the hydration Job. */
export interface SourcePlan {
  /** The hydrator's source arguments (functions/hydrator/invocation.ts). */
  args: HydrateSourceArgs;
  env: JsonObject[];
  volumes: JsonObject[];
  mounts: JsonObject[];
  /** A ConfigMap the function composes to carry files to the Job. */
  configMap?: { data: Record<string, string>; items: { key: string; path: string }[] };
  /** Names of Secrets the Job needs, for messages (names only, never values). */
  secrets: string[];
}

/** An error as a value: which field, what is wrong. */
export interface FieldError {
  field: string;
  message: string;
}

/** Every member of a kind but its credential (SourceKind adds it). */
interface KindBase<S extends z.ZodType, F extends KindFlags> {
  /** The field under spec.artifact.source that selects this kind. */
  key: string;
  /** The spec schema (the XRD is generated from it). */
  schema: S;
  /**
   * What determines the bytes, and nothing else: credentials, mirrors of the same hub, TLS switches and
   * path-style addressing change how bytes are fetched, not which, so changing them keeps the volume.
   */
  identity(s: z.infer<S>): JsonValue;
  /**
   * The source in one line, for `kubectl get`, conditions and events. Never contains credentials: a URL is shown
   * without userinfo, query or fragment (a presigned URL's signature is a credential the tenant chose to put in the
   * spec; it goes no further than the spec and the Job's own file).
   */
  line(s: z.infer<S>): string;
  /**
   * The immutable revision the source names by itself, if it does; a reference that can change under us is pinned
   * only once a cluster has verified what it resolved to.
   */
  immutableRevision(s: z.infer<S>): string | undefined;
  /** Whether a replica's reported revision has the format of this kind's pin (so the two can be compared). */
  revisionComparable: boolean;
  /** A manifest digest the source names by itself (pvcClone): every cluster must verify exactly it from its first Job on. */
  pinnedManifest?(s: z.infer<S>): string | undefined;
  /** Every origin the hydrator connects to (redirects aside), each with its field; `at` is the source's path. */
  fetches(s: z.infer<S>, at: string): Fetch[];
  /** How the source reaches the Job, or the field that cannot. */
  plan(s: z.infer<S>, ctx: PlanContext): Checked<SourcePlan, FieldError>;
  /**
   * The hydrator flags the kind adds for itself (invocation.ts merges every kind's into its table; the plan sets
   * them, the fetcher reads them from its request). Names must not clash with another kind's or a core flag's
   * (registry.test.ts checks).
   */
  flags?: F;
  /** How the hydrator reads the URI the plan gives it; absent when the kind travels as another's (file://). */
  fetcher?: Fetcher;
}

/**
 * A source kind. `F` is its own hydrator flags; `Sends` says whether it sends a credential, and so has an
 * allow-list in the Input: the registry derives the Input's `credentialDestinations` keys from it, so a kind that
 * sends a credential without an allow-list does not compile.
 */
export type SourceKind<S extends z.ZodType, F extends KindFlags = NoFlags, Sends extends boolean = false> = KindBase<S, F> &
  (Sends extends true ? { credential: KindCredential<S> } : { credential?: never });

/**
 * The hydrator's side of a kind: the URI schemes it reads and how it makes a source of one. Loaded on demand
 * (a dynamic import), so the function never loads hydrator code and a Job loads only its own kind's.
 */
export interface Fetcher {
  schemes: readonly string[];
  /** The kind's lines of `hydrate --help` ("--source <uri>  what, credentials, flags"). */
  usage: readonly string[];
  create(uri: string, req: SourceRequest): Promise<Checked<CreatedSource>>;
}

/** A plan with nothing but arguments. */
export function argsOnly(args: HydrateSourceArgs): SourcePlan {
  return { args, env: [], volumes: [], mounts: [], secrets: [] };
}

/** An environment variable from a Secret's key, by reference: the value never enters the Job's spec. */
export function secretEnv(name: string, secret: string, key: string, optional = false): JsonObject {
  const ref: JsonObject = { name: secret, key };
  if (optional) ref["optional"] = true;
  return { name, valueFrom: { secretKeyRef: ref } };
}

/** A read-only volume at SOURCE_MOUNT. */
export function sourceMount(volumeSource: JsonObject): Pick<SourcePlan, "volumes" | "mounts"> {
  return {
    volumes: [{ name: "source", ...volumeSource }],
    mounts: [{ name: "source", mountPath: SOURCE_MOUNT, readOnly: true }],
  };
}
