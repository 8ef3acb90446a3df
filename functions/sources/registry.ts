// The source kinds, registered once. The API's `spec.artifact.source` is
// built from this table (api/artifact.ts), in this order (the XRD's field
// order); everything else reaches a kind through sourceKindOf. Adding a kind:
// its module beside this one, and one line here.
import type { z } from "zod";
import type { Source } from "../api/artifact.ts";
import type { Checked } from "../common/checked.ts";
import type { JsonValue } from "../sdk/types.ts";
import { configMap } from "./config-map.ts";
import { http } from "./http.ts";
import { huggingFace } from "./hugging-face.ts";
import { inline } from "./inline.ts";
import type { Credential, Fetch, FieldError, PlanContext, SourceKind, SourcePlan } from "./kind.ts";
import { oci } from "./oci.ts";
import { s3 } from "./s3.ts";

export const SOURCE_KINDS = { huggingFace, s3, http, oci, inline, configMap } as const;

export type SourceKey = keyof typeof SOURCE_KINDS;
export const SOURCE_KEYS = Object.keys(SOURCE_KINDS) as SourceKey[];

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
  fetches(at: string): Fetch[];
  credential(at: string): Credential | undefined;
  plan(ctx: PlanContext): Checked<SourcePlan, FieldError>;
}

function bind<S extends z.ZodType>(key: SourceKey, kind: SourceKind<S>, spec: z.infer<S>): KindedSource {
  return {
    key,
    identity: () => kind.identity(spec),
    line: () => kind.line(spec),
    immutableRevision: () => kind.immutableRevision(spec),
    revisionComparable: kind.revisionComparable,
    fetches: (at) => kind.fetches(spec, at),
    credential: (at) => kind.credential(spec, at),
    plan: (ctx) => kind.plan(spec, ctx),
  };
}

/** The kind of a validated source (the schema guarantees exactly one is set), or undefined for an empty one. */
export function sourceKindOf(source: Source): KindedSource | undefined {
  for (const key of SOURCE_KEYS) {
    const spec = source[key];
    // The key decides both the kind and the spec's type; TypeScript cannot correlate the two through the loop.
    if (spec !== undefined) return bind(key, SOURCE_KINDS[key] as SourceKind<z.ZodType>, spec);
  }
  return undefined;
}
