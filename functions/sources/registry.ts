// The source kinds, registered once. The API's `spec.artifact.source` is
// built from this table (api/artifact.ts), in this order (the XRD's field
// order); everything else reaches a kind through sourceKindOf. Adding a kind:
// its module beside this one, and one line here.
import type { z } from "zod";
import type { Source } from "../api/artifact.ts";
import type { Checked } from "../common/checked.ts";
import type { JsonValue } from "../sdk/types.ts";
import { azure } from "./azure.ts";
import { configMap } from "./config-map.ts";
import { gcs } from "./gcs.ts";
import { http } from "./http.ts";
import { huggingFace } from "./hugging-face.ts";
import { inline } from "./inline.ts";
import type { Credential, Fetch, FieldError, FlagValues, KindFlag, KindFlags, PlanContext, SourceKind, SourcePlan } from "./kind.ts";
import { oci } from "./oci.ts";
import { pvcClone } from "./pvc-clone.ts";
import { s3 } from "./s3.ts";

export const SOURCE_KINDS = { huggingFace, s3, gcs, azure, http, oci, inline, configMap, pvcClone } as const;

type Kinds = typeof SOURCE_KINDS;
export type SourceKey = keyof Kinds;
export const SOURCE_KEYS = Object.keys(SOURCE_KINDS) as SourceKey[];

/** The kinds that send a credential: each has an allow-list `tenancy.credentialDestinations.<key>` in the Input. */
export type CredentialKey = { [K in SourceKey]: Kinds[K] extends { credential: object } ? K : never }[SourceKey];
export const CREDENTIAL_KEYS = SOURCE_KEYS.filter((k) => SOURCE_KINDS[k].credential !== undefined) as CredentialKey[];

/** Each credential-sending kind's allow-list: its default and description (the Input builds its schema from them). */
export function credentialDestinationSpecs(): { key: CredentialKey; default: readonly string[]; description: string }[] {
  return CREDENTIAL_KEYS.map((key) => {
    const c = (SOURCE_KINDS[key] as SourceKind<z.ZodType, KindFlags, true>).credential;
    return { key, ...c.destinations };
  });
}

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type FlagsOf<K extends SourceKey> = NonNullable<Kinds[K]["flags"]>;
/** Every kind's own hydrator flags, one table (each kind's names are its own: registry.test.ts checks). */
export type KindFlagTable = UnionToIntersection<{ [K in SourceKey]: FlagsOf<K> }[SourceKey]>;
/** The values of every kind's own flags: what a plan may set beside the core arguments, what a fetcher reads. */
export type KindArgs = FlagValues<KindFlagTable>;
export const KIND_FLAGS = Object.assign({}, ...SOURCE_KEYS.map((k) => SOURCE_KINDS[k].flags ?? {})) as KindFlagTable;

/** The kind that declares the flag field `field`, if a kind does. */
export function kindOfFlag(field: string): SourceKey | undefined {
  return SOURCE_KEYS.find((k) => Object.hasOwn(SOURCE_KINDS[k].flags ?? {}, field));
}
/** A kind's flag by field (for messages). */
export function kindFlag(key: SourceKey, field: string): KindFlag | undefined {
  return (SOURCE_KINDS[key].flags as KindFlags | undefined)?.[field];
}

/** Each kind's schema, optional: the shape of `spec.artifact.source`, of which exactly one is set. */
export type SourceShape = { [K in SourceKey]: z.ZodOptional<(typeof SOURCE_KINDS)[K]["schema"]> };
export function sourceShape(): SourceShape {
  return Object.fromEntries(SOURCE_KEYS.map((k) => [k, SOURCE_KINDS[k].schema.optional()])) as SourceShape;
}

/** A source with its kind: every question the function asks of a source, answered by the kind's module. */
export interface KindedSource {
  key: SourceKey;
  identity(): JsonValue;
  line(): string;
  immutableRevision(): string | undefined;
  revisionComparable: boolean;
  pinnedManifest(): string | undefined;
  fetches(at: string): Fetch[];
  /** The credential the source sends, if any, with the allow-list that governs it. */
  credential(at: string): (Credential & { list: CredentialKey }) | undefined;
  plan(ctx: PlanContext): Checked<SourcePlan, FieldError>;
}

function bind<S extends z.ZodType>(key: SourceKey, kind: SourceKind<S, KindFlags, boolean>, spec: z.infer<S>): KindedSource {
  return {
    key,
    identity: () => kind.identity(spec),
    line: () => kind.line(spec),
    immutableRevision: () => kind.immutableRevision(spec),
    revisionComparable: kind.revisionComparable,
    pinnedManifest: () => kind.pinnedManifest?.(spec),
    fetches: (at) => kind.fetches(spec, at),
    credential(at) {
      const sent = kind.credential?.sent(spec, at);
      // A kind that sends a credential is a CredentialKey by construction (its type says so).
      return sent === undefined ? undefined : { ...sent, list: key as CredentialKey };
    },
    plan: (ctx) => kind.plan(spec, ctx),
  };
}

/** The kind of a validated source (the schema guarantees exactly one is set), or undefined for an empty one. */
export function sourceKindOf(source: Source): KindedSource | undefined {
  for (const key of SOURCE_KEYS) {
    const spec = source[key];
    // The key decides both the kind and the spec's type; TypeScript cannot correlate the two through the loop.
    if (spec !== undefined) return bind(key, SOURCE_KINDS[key] as SourceKind<z.ZodType, KindFlags, boolean>, spec);
  }
  return undefined;
}
