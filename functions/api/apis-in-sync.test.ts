// The XRDs and the input CRD are generated from these schemas; this fails
// when someone changes a schema without `npm run gen:apis`, or edits a
// generated file by hand.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderApis, ROOT, structural } from "../../scripts/gen-apis.ts";
import { SOURCE_KEYS } from "../sources/registry.ts";

describe("generated API files", () => {
  it.each(Object.entries(renderApis()))("%s matches its schema (run npm run gen:apis)", (path, text) => {
    expect(readFileSync(join(ROOT, path), "utf8")).toBe(text);
  });

  it("never emits additionalProperties: false, $schema or a JavaScript-only regex", () => {
    for (const text of Object.values(renderApis())) {
      expect(text).not.toMatch(/additionalProperties: false/);
      expect(text).not.toContain("$schema");
      expect(text).not.toMatch(/pattern: .*\(\?[=!<]/);
    }
  });

  it("keeps the exactly-one-source rule and the Kubernetes bounds", () => {
    const xrd = parse(renderApis()["apis/modelcaches/definition.yaml"] ?? "");
    const spec = xrd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    const source = spec.properties.artifact.properties.source;
    // One has() per registered kind, in the registry's order (a new kind is in the rule without editing this).
    expect(source["x-kubernetes-validations"][0].rule).toBe(`[${SOURCE_KEYS.map((k) => `has(self.${k})`).join(", ")}].filter(x, x).size() == 1`);
    expect(SOURCE_KEYS.slice(0, 2)).toEqual(["huggingFace", "s3"]);
    expect(spec.properties.hydration.properties.backoffLimit).toMatchObject({ type: "integer", minimum: 0, maximum: 20, default: 4 });
  });
});

describe("structural", () => {
  it.each([
    {
      reason: "drops a double's range restated on an integer",
      in: { type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 },
      want: { type: "integer" },
    },
    { reason: "keeps a real bound", in: { type: "integer", minimum: 1 }, want: { type: "integer", minimum: 1 } },
    { reason: "drops a lookahead RE2 cannot run", in: { type: "string", pattern: "^(?!/)x$" }, want: { type: "string" } },
    { reason: "turns const into a one-value enum", in: { type: "string", const: "Input" }, want: { type: "string", enum: ["Input"] } },
    { reason: "marks a type-less node as preserving unknown fields", in: {}, want: { "x-kubernetes-preserve-unknown-fields": true } },
    {
      reason: "makes an int-or-string union int-or-string",
      in: { anyOf: [{ type: "string" }, { type: "integer" }] },
      want: { "x-kubernetes-int-or-string": true },
    },
    {
      reason: "drops additionalProperties: false and propertyNames, recursively",
      in: {
        type: "object",
        additionalProperties: false,
        properties: { m: { type: "object", propertyNames: { type: "string" }, additionalProperties: { type: "string" } } },
      },
      want: { type: "object", properties: { m: { type: "object", additionalProperties: { type: "string" } } } },
    },
  ])("$reason", (c) => {
    expect(structural(c.in)).toEqual(c.want);
  });
});
