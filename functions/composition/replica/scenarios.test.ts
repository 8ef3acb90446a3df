// Each scenario (the same ones the examples render) reaches the phase it is
// written for, and the composite is ready exactly when the phase is Ready.
import { describe, expect, it } from "vitest";
import { composeScenario, scenarios } from "../../../test/support/replica-scenarios.ts";
import { statusOf } from "../../../test/support/replica-builders.ts";

describe("phase of each cluster-level scenario", () => {
  it.each(scenarios().map((s) => [s.name, s] as const))("%s", (_name, s) => {
    const rsp = composeScenario(s);
    if (s.phase === "Fatal") {
      expect(
        rsp.results.map((r) => r.severity),
        s.why,
      ).toEqual(["Fatal"]);
      return;
    }
    expect(statusOf(rsp).phase, s.why).toBe(s.phase);
    expect(rsp.desired.composite?.ready, "composite ready only when phase Ready").toBe(s.phase === "Ready" ? "True" : "False");
  });
});
