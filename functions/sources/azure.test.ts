// What the azure kind's schema refuses beyond the XRD's pattern (the XRD
// prunes unknown fields and RE2 cannot say "no two hyphens" with a length):
// a Fatal naming the field, from the function. The XRD's own cases are in
// functions/api/xrd-validation.test.ts; the kind's answers in registry.test.ts.
import { describe, expect, it } from "vitest";
import { formatIssues } from "../common/zod-issues.ts";
import { AzureSource } from "./azure.ts";

describe("the azure source's schema", () => {
  it.each([
    {
      reason: "a container with two hyphens in a row",
      spec: { uri: "azure://acct/a--b/x" },
      want: "uri: the container name may not hold two hyphens in a row",
    },
    {
      reason: "a connection string's key as a field: credentials only by Secret",
      spec: { uri: "azure://acct/models/x", accountKey: "abc" },
      want: 'Unrecognized key: "accountKey"',
    },
    { reason: "a SAS token in the URI", spec: { uri: "azure://acct/models/x?sig=abc" }, want: "uri: must be azure://<account>/<container>/<prefix>" },
    { reason: "a container of 64 characters", spec: { uri: `azure://acct/${"a".repeat(64)}/x` }, want: "uri: must be azure://" },
  ])("refuses $reason", ({ spec, want }) => {
    const r = AzureSource.safeParse(spec);
    expect(r.success).toBe(false);
    expect(r.success ? "" : formatIssues("", r.error)).toContain(want);
  });

  it.each([
    { reason: "the shortest names", uri: "azure://abc/abc" },
    { reason: "a container of 63 characters with single hyphens", uri: `azure://acct/${"a-".repeat(31)}a/p/` },
    { reason: "a blob name with spaces and non-ASCII", uri: "azure://acct/models/a b/ü.bin" },
  ])("accepts $reason", ({ uri }) => {
    expect(AzureSource.safeParse({ uri }).success).toBe(true);
  });
});
