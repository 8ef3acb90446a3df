// Reading the hydrator's report back: the ConfigMap it keeps updated, as the
// report Object observed it (status.atProvider.manifest.data["report.json"]).
import { field, str } from "../../common/json.ts";
import { HYDRATION_REPORT_KEY, HydrationReport } from "../../api/hydration-report.ts";
import type { Observation } from "./objects.ts";

export type ReportReading =
  | { kind: "none" } // no ConfigMap yet, or the hydrator has not written yet
  | { kind: "invalid"; message: string } // something other than a report: say so, do not guess
  | { kind: "report"; report: HydrationReport };

export function readReport(obs: Observation): ReportReading {
  const raw = str(field(obs.manifest, "data", HYDRATION_REPORT_KEY));
  if (raw === undefined || raw === "") return { kind: "none" };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { kind: "invalid", message: `the report ConfigMap's ${HYDRATION_REPORT_KEY} is not JSON` };
  }
  const parsed = HydrationReport.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      kind: "invalid",
      message: `the report ConfigMap's ${HYDRATION_REPORT_KEY} is not a hydration report (${first ? `${first.path.join(".")}: ${first.message}` : "invalid"})`,
    };
  }
  return { kind: "report", report: parsed.data };
}
