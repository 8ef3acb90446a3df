import { describe, expect, it } from "vitest";
import { fatal, passThrough } from "./response.ts";
import type { FunctionRequest, ResourceState } from "./types.ts";

const bucket: ResourceState = { resource: { apiVersion: "s3/v1", kind: "Bucket", spec: { a: { b: [1, 2] } } }, connectionDetails: {}, ready: "True" };
const xr: ResourceState = { resource: { apiVersion: "x/v1", kind: "XR", status: { s: 1 } }, connectionDetails: {}, ready: "Unspecified" };

function request(): FunctionRequest {
  return {
    tag: "t",
    observed: { composite: xr, resources: {} },
    desired: { composite: xr, resources: { bucket } },
    input: undefined,
    context: { "example.org/ctx": { k: "v" } },
    requiredResources: {},
    capabilities: [],
    credentials: {},
  };
}

describe("passThrough", () => {
  it("returns earlier steps' desired composite, composed resources and context unchanged", () => {
    const rsp = passThrough(request());
    expect(rsp.tag).toBe("t");
    expect(rsp.desired.composite).toBe(xr);
    // The same object, not a merged copy: replaced as a whole.
    expect(rsp.desired.resources["bucket"]).toBe(bucket);
    expect(rsp.context).toStrictEqual({ "example.org/ctx": { k: "v" } });
    expect(rsp.results).toEqual([]);
    expect(rsp.ttlSeconds).toBe(60);
  });

  it("does not let a change to the response's map leak into the request", () => {
    const req = request();
    const rsp = passThrough(req);
    delete rsp.desired.resources["bucket"];
    expect(req.desired.resources["bucket"]).toBe(bucket);
  });
});

describe("fatal", () => {
  it("keeps every desired resource and adds one Fatal result", () => {
    const rsp = fatal(request(), "spec.x: bad");
    expect(rsp.desired.resources["bucket"]).toBe(bucket);
    expect(rsp.results).toEqual([{ severity: "Fatal", message: "spec.x: bad", reason: "InvalidInput", target: "Composite" }]);
  });
});
