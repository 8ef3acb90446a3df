// Exact conversion between google.protobuf.Struct (as @grpc/proto-loader
// decodes it) and plain JSON values.
//
// A Struct number is an IEEE double, so anything that cannot survive that
// round trip is refused with the path of the offending value instead of being
// silently changed: NaN, ±Infinity, integers beyond 2^53, bigint, Date,
// `undefined` inside a list, and any non-plain object. `undefined` as an
// object property is omitted, as JSON.stringify does.
import type { Struct, Struct__Output } from "./generated/google/protobuf/Struct.ts";
import type { Value, Value__Output } from "./generated/google/protobuf/Value.ts";
import type { JsonObject, JsonValue } from "../sdk/types.ts";
import type { Checked } from "../common/checked.ts";

export interface ConversionError {
  path: string;
  message: string;
}
export type Converted<T> = Checked<T, ConversionError>;

class Refused extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const child = (path: string, key: string): string => (IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function encodeValue(v: unknown, path: string): Value {
  switch (typeof v) {
    case "string":
      return { stringValue: v };
    case "boolean":
      return { boolValue: v };
    case "number":
      if (Number.isNaN(v)) throw new Refused(path, "NaN cannot be represented in a protobuf Struct");
      if (!Number.isFinite(v)) throw new Refused(path, "Infinity cannot be represented in a protobuf Struct");
      if (Number.isInteger(v) && Math.abs(v) > Number.MAX_SAFE_INTEGER + 1)
        throw new Refused(path, `integer ${v} is beyond 2^53 and would lose precision; send it as a string`);
      return { numberValue: v };
    case "bigint":
      throw new Refused(path, "bigint cannot be represented in a protobuf Struct; send it as a string");
    case "undefined":
      throw new Refused(path, "undefined is not a JSON value");
    case "object": {
      if (v === null) return { nullValue: "NULL_VALUE" };
      if (Array.isArray(v)) return { listValue: { values: v.map((item, i) => encodeValue(item, `${path}[${i}]`)) } };
      if (v instanceof Date) throw new Refused(path, "a Date is not a JSON value; send it as an RFC 3339 string");
      if (!isPlainObject(v)) throw new Refused(path, `a ${v.constructor?.name ?? "non-plain"} object is not a JSON value`);
      return { structValue: encodeFields(v as Record<string, unknown>, path) };
    }
    default:
      throw new Refused(path, `a ${typeof v} is not a JSON value`);
  }
}

function encodeFields(obj: Record<string, unknown>, path: string): Struct {
  const fields: Record<string, Value> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    fields[key] = encodeValue(value, child(path, key));
  }
  return { fields };
}

function decodeValue(v: Value__Output, path: string): JsonValue {
  switch (v.kind) {
    case "stringValue":
      return v.stringValue ?? "";
    case "boolValue":
      return v.boolValue ?? false;
    case "numberValue":
      return v.numberValue ?? 0;
    case "structValue":
      return decodeFields(v.structValue ?? { fields: {} }, path);
    case "listValue":
      return (v.listValue?.values ?? []).map((item, i) => decodeValue(item, `${path}[${i}]`));
    case "nullValue":
    case undefined:
      // A Value with no kind set is how proto3 spells null on some encoders.
      return null;
  }
}

function decodeFields(s: Struct__Output, path: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(s.fields ?? {})) out[key] = decodeValue(value, child(path, key));
  return out;
}

/** Plain object → Struct. Refuses what a Struct cannot carry exactly, naming the path. */
export function toStruct(obj: Record<string, unknown>, root = "$"): Converted<Struct> {
  try {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj) || !isPlainObject(obj))
      throw new Refused(root, "a Struct must be made from a plain object");
    return { ok: true, value: encodeFields(obj, root) };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, error: { path: err.path, message: err.message } };
    throw err;
  }
}

/** Struct → plain object. Every Struct is representable, so this cannot fail. */
export function fromStruct(s: Struct__Output | null | undefined): JsonObject {
  return s ? decodeFields(s, "$") : {};
}
