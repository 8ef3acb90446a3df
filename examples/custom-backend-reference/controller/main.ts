// The reference substrate's controller loop: every few seconds, each
// ModelVolume on the cluster is read with its claim, Job and report,
// reconciled (reconcile.ts), applied with server-side apply, and its status
// written. It talks to the API server with the pod's service account over
// HTTPS (start node with NODE_EXTRA_CA_CERTS=<the service account's ca.crt>,
// as deploy.yaml does). Small on purpose: a production substrate would watch
// instead of poll and rate-limit its writes.
//
// Run: node main.ts   (env: HYDRATOR_IMAGE, optional STORAGE_CLASS, DEFAULT_SIZE, INTERVAL_SECONDS; outside a
// pod, SERVICE_ACCOUNT_DIR holding a `token` of the ServiceAccount, with KUBERNETES_SERVICE_HOST/PORT and
// NODE_EXTRA_CA_CERTS pointing at the API server, as the project's live suite runs it)
import { readFileSync } from "node:fs";
import { reconcile, type Json, type ModelVolume, type Obj, type Options } from "./reconcile.ts";

const SA = process.env["SERVICE_ACCOUNT_DIR"] ?? "/var/run/secrets/kubernetes.io/serviceaccount";
const GROUP = "volumes.example.com/v1alpha1";
const MANAGER = "modelvolume-controller";

export interface Kube {
  request(method: string, path: string, body?: Json, contentType?: string): Promise<{ status: number; json: Json | undefined }>;
}

/** The API server as the pod's service account sees it. */
export function inCluster(): Kube {
  const host = process.env["KUBERNETES_SERVICE_HOST"];
  const port = process.env["KUBERNETES_SERVICE_PORT"] ?? "443";
  const base = `https://${host?.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    async request(method, path, body, contentType = "application/json") {
      // Read per request: the kubelet rotates the token.
      const token = readFileSync(`${SA}/token`, "utf8").trim();
      const rsp = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body !== undefined ? { "content-type": contentType } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await rsp.text();
      return { status: rsp.status, json: text ? (JSON.parse(text) as Json) : undefined };
    },
  };
}

async function read(kube: Kube, path: string): Promise<Obj | undefined> {
  const r = await kube.request("GET", path);
  if (r.status === 404) return undefined;
  if (r.status >= 300) throw new Error(`GET ${path}: HTTP ${r.status}`);
  return r.json as Obj;
}

/** The object's URL: every kind reconcile.ts applies is namespaced and pluralised with an s. */
export function pathOf(o: Obj): string {
  const m = o["metadata"] as Obj;
  const api = String(o["apiVersion"]);
  const prefix = api.includes("/") ? `/apis/${api}` : `/api/${api}`;
  return `${prefix}/namespaces/${String(m["namespace"])}/${String(o["kind"]).toLowerCase()}s/${String(m["name"])}`;
}

/** One pass over every ModelVolume; errors are per volume, logged, and retried on the next pass. */
export async function pass(kube: Kube, o: Options): Promise<void> {
  const list = await kube.request("GET", `/apis/${GROUP}/modelvolumes`);
  if (list.status >= 300) throw new Error(`listing ModelVolumes: HTTP ${list.status}`);
  for (const item of ((list.json as Obj)["items"] as Json[] | undefined) ?? []) {
    const v = item as unknown as ModelVolume;
    const ns = v.metadata.namespace;
    try {
      const claim = await read(kube, `/api/v1/namespaces/${ns}/persistentvolumeclaims/${v.spec.claimName}`);
      const first = reconcile(v, { claim, job: undefined, report: undefined }, o);
      const jobObj = first.apply.find((x) => x["kind"] === "Job");
      const jobName = String((jobObj?.["metadata"] as Obj | undefined)?.["name"] ?? "");
      const job = jobName ? await read(kube, `/apis/batch/v1/namespaces/${ns}/jobs/${jobName}`) : undefined;
      const cm = jobName ? await read(kube, `/api/v1/namespaces/${ns}/configmaps/${jobName}-report`) : undefined;
      const raw = (cm?.["data"] as Obj | undefined)?.["report.json"];
      const report = typeof raw === "string" && raw !== "" ? (JSON.parse(raw) as Obj) : undefined;
      const plan = reconcile(v, { claim, job, report }, o);
      for (const obj of plan.apply) {
        // A ConfigMap the hydrator writes is created once, never applied over.
        if (obj["kind"] === "ConfigMap" && cm !== undefined) continue;
        const r = await kube.request("PATCH", `${pathOf(obj)}?fieldManager=${MANAGER}&force=true`, obj, "application/apply-patch+yaml");
        if (r.status >= 300) throw new Error(`applying ${String(obj["kind"])}: HTTP ${r.status}`);
      }
      const status = await kube.request(
        "PATCH",
        `/apis/${GROUP}/namespaces/${ns}/modelvolumes/${v.metadata.name}/status`,
        { status: plan.status },
        "application/merge-patch+json",
      );
      if (status.status >= 300) throw new Error(`writing status: HTTP ${status.status}`);
    } catch (err) {
      process.stderr.write(`${ns}/${v.metadata.name}: ${(err as Error).message}\n`);
    }
  }
}

if (import.meta.main) {
  const image = process.env["HYDRATOR_IMAGE"];
  if (!image) throw new Error("set HYDRATOR_IMAGE to function-model-cache's image, pinned by digest");
  const options: Options = {
    image,
    defaultSize: process.env["DEFAULT_SIZE"] ?? "100Gi",
    ...(process.env["STORAGE_CLASS"] ? { storageClassName: process.env["STORAGE_CLASS"] } : {}),
  };
  const kube = inCluster();
  const every = Number(process.env["INTERVAL_SECONDS"] ?? "10") * 1000;
  for (;;) {
    await pass(kube, options).catch((err: Error) => process.stderr.write(`${err.message}\n`));
    await new Promise((r) => setTimeout(r, every));
  }
}
