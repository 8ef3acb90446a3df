// kubectl against the live control plane and its target clusters, and a
// wait that logs what it observed. The live suite talks to the API servers
// only through the real kubectl, as a person would.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface LiveEnv {
  state: string;
  kubectl: string;
  cpKubeconfig: string;
  edgeKubeconfig: string;
  cpApiPort: number;
  edgeApiPort: number;
  ca: string;
  fnPort: number;
  fnTls: string;
  /** Where function-serving-platform-step (the platform's own step of the serving Composition) is expected. */
  platformStepPort: number;
  platformStepTls: string;
}

/** The environment `scripts/live/control-plane.sh env` prints; undefined when the live control plane is not up. */
export function liveEnv(env: NodeJS.ProcessEnv = process.env): LiveEnv | undefined {
  const need = (k: string) => env[k];
  const state = need("FMC_LIVE_STATE");
  const kubectl = need("FMC_LIVE_KUBECTL");
  const cp = need("FMC_LIVE_CP_KUBECONFIG");
  const edge = need("FMC_LIVE_EDGE_KUBECONFIG");
  const ca = need("FMC_LIVE_CA");
  const fnTls = need("FMC_LIVE_FN_TLS");
  const platformStepTls = need("FMC_LIVE_PLATFORM_STEP_TLS");
  if (!state || !kubectl || !cp || !edge || !ca || !fnTls || !platformStepTls) return undefined;
  return {
    state,
    kubectl,
    cpKubeconfig: cp,
    edgeKubeconfig: edge,
    cpApiPort: Number(env["FMC_LIVE_CP_API_PORT"]),
    edgeApiPort: Number(env["FMC_LIVE_EDGE_API_PORT"]),
    ca,
    fnPort: Number(env["FMC_LIVE_FN_PORT"]),
    fnTls,
    platformStepPort: Number(env["FMC_LIVE_PLATFORM_STEP_PORT"]),
    platformStepTls,
  };
}

export type Json = Record<string, unknown>;

/** One API server, through kubectl with one kubeconfig. */
export class Kube {
  readonly name: string;
  private readonly kubectlPath: string;
  private readonly kubeconfig: string;

  constructor(name: string, kubectlPath: string, kubeconfig: string) {
    this.name = name;
    this.kubectlPath = kubectlPath;
    this.kubeconfig = kubeconfig;
  }

  async kubectl(args: string[], input?: string): Promise<string> {
    const child = run(this.kubectlPath, ["--kubeconfig", this.kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    const { stdout } = await child;
    return stdout;
  }

  async apply(manifest: Json | Json[]): Promise<void> {
    const items = Array.isArray(manifest) ? manifest : [manifest];
    await this.kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  }

  /** The object, or undefined when it does not exist. */
  async get(kind: string, name: string, namespace?: string): Promise<Json | undefined> {
    const ns = namespace ? ["-n", namespace] : [];
    const out = await this.kubectl(["get", kind, name, ...ns, "-o", "json", "--ignore-not-found"]);
    return out.trim() === "" ? undefined : (JSON.parse(out) as Json);
  }

  async list(kind: string, opts: { namespace?: string; selector?: string } = {}): Promise<Json[]> {
    const args = ["get", kind, "-o", "json"];
    args.push(...(opts.namespace ? ["-n", opts.namespace] : ["-A"]));
    if (opts.selector) args.push("-l", opts.selector);
    const out = await this.kubectl(args);
    return (JSON.parse(out) as { items?: Json[] }).items ?? [];
  }

  async delete(kind: string, name: string, namespace?: string, wait = false): Promise<void> {
    const ns = namespace ? ["-n", namespace] : [];
    await this.kubectl(["delete", kind, name, ...ns, "--ignore-not-found", `--wait=${wait}`]);
  }

  async patch(kind: string, name: string, patch: Json, opts: { namespace?: string; subresource?: string; type?: "merge" | "json" } = {}): Promise<void> {
    const args = ["patch", kind, name, "--type", opts.type ?? "merge", "-p", JSON.stringify(patch)];
    if (opts.namespace) args.push("-n", opts.namespace);
    if (opts.subresource) args.push("--subresource", opts.subresource);
    await this.kubectl(args);
  }

  /** A token for a ServiceAccount (TokenRequest), as the kubelet would project it. */
  async token(namespace: string, serviceAccount: string): Promise<string> {
    return (await this.kubectl(["-n", namespace, "create", "token", serviceAccount, "--duration=1h"])).trim();
  }
}

/** Reads a dotted path out of a JSON object. */
export function at(o: unknown, ...path: (string | number)[]): unknown {
  let v: unknown = o;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

export function conditionStatus(o: unknown, type: string): string | undefined {
  const conds = at(o, "status", "conditions");
  if (!Array.isArray(conds)) return undefined;
  const c = conds.find((x) => at(x, "type") === type);
  return c === undefined ? undefined : String(at(c, "status"));
}

export function log(msg: string): void {
  process.stdout.write(`[live ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/**
 * Polls `probe` until it returns a value other than undefined, logging each
 * new observation (what `describe` makes of it) so the suite's log shows how
 * the system got there; fails with the last observation after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; describe?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let last = "";
  for (;;) {
    let value: T | undefined;
    let error = "";
    try {
      value = await probe();
    } catch (err) {
      error = (err as Error).message;
    }
    if (value !== undefined) {
      log(`ok: ${what}`);
      return value;
    }
    const seen = error || (opts.describe ? await opts.describe().catch((e: unknown) => String(e)) : "");
    if (seen !== last && seen !== "") {
      log(`  waiting for ${what}: ${seen}`);
      last = seen;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last observed: ${last}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
