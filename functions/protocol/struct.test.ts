import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";
import { LOADER_OPTIONS, PROTO_PATH } from "./load.ts";
import { fromStruct, toStruct } from "./struct.ts";
import type { Struct__Output } from "./generated/google/protobuf/Struct.ts";

// Round trips go through real protobuf bytes (the RunFunctionRequest.input
// field), not just the in-memory shape, so what is tested is what the wire does.
const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
const service = definition["apiextensions.fn.proto.v1.FunctionRunnerService"] as protoLoader.ServiceDefinition;
const method = service["RunFunction"] as protoLoader.MethodDefinition<object, object>;

function overTheWire(obj: Record<string, unknown>): unknown {
  const s = toStruct(obj);
  if (!s.ok) throw new Error(s.error.message);
  const bytes = method.requestSerialize({ input: s.value });
  const back = method.requestDeserialize(bytes) as { input: Struct__Output };
  return fromStruct(back.input);
}

describe("Struct round trip", () => {
  const cases: { reason: string; value: Record<string, unknown> }[] = [
    { reason: "an empty object stays empty", value: {} },
    { reason: "nested lists and maps keep their shape and order", value: { a: [1, [2, [3, { b: [] }]], { c: { d: {} } }] } },
    { reason: "null survives, in maps and in lists", value: { n: null, l: [null, 1, null] } },
    { reason: "booleans stay booleans, not 0/1", value: { t: true, f: false, l: [true, false] } },
    { reason: "integers up to 2^53 are exact", value: { max: 2 ** 53, min: -(2 ** 53), safe: Number.MAX_SAFE_INTEGER, zero: 0 } },
    { reason: "fractions and negative zero keep their value", value: { pi: 3.141592653589793, tiny: 5e-324, neg: -1.5 } },
    {
      reason: "strings that look like numbers, booleans or null stay strings",
      value: { q: "81559Mi", n: "1e3", b: "true", z: "null", e: "", big: "9007199254740993" },
    },
    { reason: "unicode and odd keys pass unchanged", value: { "gpu.nvidia.com/productName": "NVIDIA H100 80GB HBM3", ключ: "значение 🚀", "a b": "c" } },
  ];
  it.each(cases)("$reason", ({ value }) => {
    expect(overTheWire(value)).toStrictEqual(value);
  });

  it("omits an undefined property, as JSON does", () => {
    expect(overTheWire({ a: 1, b: undefined })).toStrictEqual({ a: 1 });
  });
});

describe("Struct refuses what it cannot carry exactly, naming the path", () => {
  const cases: { reason: string; value: Record<string, unknown>; path: string; message: RegExp }[] = [
    { reason: "NaN", value: { spec: { n: Number.NaN } }, path: "$.spec.n", message: /NaN/ },
    { reason: "Infinity", value: { a: [1, Number.POSITIVE_INFINITY] }, path: "$.a[1]", message: /Infinity/ },
    { reason: "-Infinity", value: { a: Number.NEGATIVE_INFINITY }, path: "$.a", message: /Infinity/ },
    { reason: "an integer beyond 2^53", value: { id: 2 ** 53 + 2 }, path: "$.id", message: /beyond 2\^53/ },
    { reason: "bigint", value: { spec: { size: 10n } }, path: "$.spec.size", message: /bigint/ },
    { reason: "Date", value: { status: { at: new Date(0) } }, path: "$.status.at", message: /Date/ },
    { reason: "undefined inside a list", value: { l: [1, undefined, 3] }, path: "$.l[1]", message: /undefined/ },
    { reason: "a class instance", value: { m: new Map() }, path: "$.m", message: /Map/ },
    { reason: "a function", value: { f: () => 1 }, path: "$.f", message: /function/ },
    { reason: "a key that needs quoting is quoted in the path", value: { "a.b": [{ "c d": Number.NaN }] }, path: '$["a.b"][0]["c d"]', message: /NaN/ },
  ];
  it.each(cases)("$reason", ({ value, path, message }) => {
    const r = toStruct(value);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.path).toBe(path);
    expect(r.error.message).toMatch(message);
    expect(r.error.message.startsWith(path)).toBe(true);
  });
});
