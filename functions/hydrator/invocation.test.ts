import fc from "fast-check";
import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import { argsFromValues, HYDRATE_FLAGS, hydrateArgv, parseArgsOptions, type HydrateArgs } from "./invocation.ts";

/** What the CLI reads back from argv: parseArgs over the same table, then by field. */
function readBack(argv: string[]): HydrateArgs {
  return argsFromValues(parseArgs({ args: argv, allowPositionals: false, options: parseArgsOptions() }).values);
}

const text = fc.string({ minLength: 0, maxLength: 12 });
const list = fc.array(text, { minLength: 1, maxLength: 3 });
const strings = Object.entries(HYDRATE_FLAGS)
  .filter(([, f]) => f.type === "string" && !("multiple" in f))
  .map(([k]) => k);
const booleans = Object.entries(HYDRATE_FLAGS)
  .filter(([, f]) => f.type === "boolean")
  .map(([k]) => k);
const lists = Object.entries(HYDRATE_FLAGS)
  .filter(([, f]) => "multiple" in f)
  .map(([k]) => k);

/** Any HydrateArgs: each field absent or set, strings of any characters (a tenant writes them), booleans true. */
const anyArgs = fc.record(
  Object.fromEntries([...strings.map((k) => [k, text]), ...booleans.map((k) => [k, fc.constant(true)]), ...lists.map((k) => [k, list])]),
  { requiredKeys: [] },
) as fc.Arbitrary<HydrateArgs>;

describe("the hydrator's arguments, written by the function and read by the CLI", () => {
  it("read back as exactly what was written, whatever the values (a glob or region starting with '-' included)", () => {
    fc.assert(
      fc.property(anyArgs, (args) => {
        expect(readBack(hydrateArgv(args))).toEqual(args);
      }),
    );
  });

  it.each([
    {
      reason: "a value starting with '-' is joined with '=' (parseArgs refuses `--include -x` as ambiguous)",
      args: { include: ["-x", "*.json"] },
      argv: ["--include=-x", "--include", "*.json"],
    },
    { reason: "an empty value stays an argument of its own", args: { sha256: "" }, argv: ["--sha256", ""] },
    { reason: "a false boolean is left out, a true one is the bare flag", args: { s3PathStyle: false, plainHttp: true }, argv: ["--plain-http"] },
    {
      reason: "fields are written in the order they were set, with their flag names",
      args: { source: "s3://b/p", s3Region: "eu-west-1", dest: "/cache" },
      argv: ["--source", "s3://b/p", "--s3-region", "eu-west-1", "--dest", "/cache"],
    },
  ])("$reason", ({ args, argv }) => {
    expect(hydrateArgv(args as HydrateArgs)).toEqual(argv);
  });
});
