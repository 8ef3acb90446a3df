// The RunFunction request and response as plain JSON-shaped values: what the
// composition logic sees. The protocol layer (functions/protocol) converts
// between these and the wire; nothing below it knows about protobuf.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Only READY_TRUE counts as ready for Crossplane. */
export type Readiness = "Unspecified" | "True" | "False";

export interface ResourceState {
  resource: JsonObject;
  connectionDetails: Record<string, Uint8Array>;
  ready: Readiness;
}

export interface State {
  composite: ResourceState | undefined;
  /** Keyed by composition-resource-name. */
  resources: Record<string, ResourceState>;
}

export interface ResourceSelector {
  apiVersion: string;
  kind: string;
  match: { name: string } | { labels: Record<string, string> };
  namespace?: string;
}

/** A required resource's object as the protocol layer decodes it: the object, or why it could not be read (naming where). */
export type DecodedResource = { ok: true; resource: JsonObject } | { ok: false; message: string; refused: boolean };

/**
 * A required resource left as the bytes Crossplane sent (a Resource message), decoded only when asked:
 * the composition may know the answer for these exact bytes already (fleet/selection-cache.ts).
 */
/** What the composition remembered for a resource's exact bytes, and under which context it did (opaque to the protocol layer). */
export interface KnownResource {
  readonly context: string;
  readonly value: unknown;
}

export interface EncodedResource {
  /** The Resource message's bytes; empty when they were let go as they arrived (`known` then says what was known of them). */
  readonly bytes: Uint8Array;
  /** SHA-256 (base64) of the bytes, when it was computed as they arrived. */
  readonly digest?: string | undefined;
  /** Set when the bytes were let go: what the composition had decided on them before (stream-request.ts). */
  readonly known?: KnownResource;
  decode(): DecodedResource;
  /** The object with its `metadata` alone (the same metadata decode() gives), the rest not read. */
  decodeMetadata(): DecodedResource;
}

export interface FunctionRequest {
  tag: string;
  observed: State;
  desired: State;
  input: JsonObject | undefined;
  context: JsonObject | undefined;
  /** Required resources Crossplane fetched, by requirement name. */
  requiredResources: Record<string, JsonObject[]>;
  /** Required resources the server was told to leave encoded (protocol/decode-request.ts, `encoded`), by requirement name; not in requiredResources. */
  encodedResources?: Record<string, EncodedResource[]>;
  /** Whether this Crossplane delivers required resources at all (v2 capability). */
  capabilities: string[];
  credentials: Record<string, Record<string, Uint8Array>>;
}

export type Severity = "Fatal" | "Warning" | "Normal";
export type ResultTarget = "Composite" | "CompositeAndClaim";

export interface Result {
  severity: Severity;
  message: string;
  reason?: string;
  target?: ResultTarget;
}

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
  target?: ResultTarget;
}

export interface FunctionResponse {
  tag: string;
  /** Requeue after this many seconds (Crossplane's realtime compositions take the smallest). */
  ttlSeconds: number;
  desired: State;
  results: Result[];
  context: JsonObject | undefined;
  requirements: { resources: Record<string, ResourceSelector> };
  conditions: Condition[];
}
