// A tiny in-cluster client for the one call the hydrator makes: keep one
// ConfigMap's data key up to date. Why not a Kubernetes client library: the
// official one pulls in dozens of packages (request stacks, OpenAPI models) for
// a single PATCH; this is one HTTPS request with the pod's service-account
// token and CA, which the Job's Role allows (get/update/patch on that name).
import { readFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import type { Checked } from "../common/checked.ts";

export const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface ApiConfig {
  /** https://<host>:<port> (http:// only in tests). */
  baseUrl: string;
  token: string;
  ca?: Buffer;
}

/** The in-cluster configuration, as client-go's rest.InClusterConfig finds it. */
export async function inClusterConfig(env: Record<string, string | undefined>, saDir: string = SA_DIR): Promise<Checked<ApiConfig>> {
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"];
  if (!host || !port) return { ok: false, error: "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set" };
  try {
    const token = (await readFile(`${saDir}/token`, "utf8")).trim();
    const ca = await readFile(`${saDir}/ca.crt`);
    const h = host.includes(":") ? `[${host}]` : host;
    return { ok: true, value: { baseUrl: `https://${h}:${port}`, token, ca } };
  } catch (err) {
    return { ok: false, error: `cannot read the service account token or CA in ${saDir}: ${(err as Error).message}` };
  }
}

interface Reply {
  status: number;
  body: string;
}

function call(cfg: ApiConfig, method: string, path: string, contentType: string, body: string, timeoutMs: number): Promise<Reply> {
  const url = new URL(path, cfg.baseUrl);
  const req = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(
      url,
      {
        method,
        headers: { authorization: `Bearer ${cfg.token}`, "content-type": contentType, accept: "application/json", "content-length": Buffer.byteLength(body) },
        ...(cfg.ca ? { ca: cfg.ca } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text = (text + d).slice(0, 4096)));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    r.on("timeout", () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on("error", reject);
    r.end(body);
  });
}

function apiMessage(r: Reply): string {
  try {
    const j = JSON.parse(r.body) as { message?: unknown };
    if (typeof j.message === "string") return j.message;
  } catch {
    // not a Status object
  }
  return r.body.slice(0, 200);
}

/**
 * Sets `data[key] = value` on ConfigMap namespace/name: a merge patch, and a
 * create when it does not exist yet (the function normally creates it; RBAC
 * may not allow the hydrator to, which is then reported, not fatal).
 */
export async function putConfigMapKey(
  cfg: ApiConfig,
  namespace: string,
  name: string,
  key: string,
  value: string,
  timeoutMs = 10_000,
): Promise<Checked<"patched" | "created">> {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  try {
    const patch = await call(
      cfg,
      "PATCH",
      `${base}/${encodeURIComponent(name)}`,
      "application/merge-patch+json",
      JSON.stringify({ data: { [key]: value } }),
      timeoutMs,
    );
    if (patch.status >= 200 && patch.status < 300) return { ok: true, value: "patched" };
    if (patch.status !== 404) return { ok: false, error: `PATCH configmap ${namespace}/${name}: HTTP ${patch.status}: ${apiMessage(patch)}` };
    const body = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: { [key]: value } });
    const create = await call(cfg, "POST", base, "application/json", body, timeoutMs);
    if (create.status >= 200 && create.status < 300) return { ok: true, value: "created" };
    return { ok: false, error: `create configmap ${namespace}/${name}: HTTP ${create.status}: ${apiMessage(create)}` };
  } catch (err) {
    return { ok: false, error: `configmap ${namespace}/${name}: ${(err as Error).message}` };
  }
}
