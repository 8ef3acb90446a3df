// The node of a target cluster, played by the live suite: no kubelet runs
// here, so for every Pod the Job controller creates, this runs what the
// kubelet would run, as a local process, and reports back what the kubelet
// would report.
//
// For one Pod it:
// - resolves the Pod's volumes as the kubelet would: a claim through its bound
//   PersistentVolume to the PV's hostPath directory, a Secret or ConfigMap to
//   a directory of its keys, an emptyDir to a fresh directory;
// - resolves the environment (value, secretKeyRef, configMapKeyRef, fieldRef);
// - asks the API server for a token of the Pod's ServiceAccount (TokenRequest,
//   what a projected token volume holds), so the hydrator writes its report
//   with exactly the rights the composed Role gives it;
// - runs the image's entrypoint (`function-model-cache`, this checkout) with
//   exactly the Pod's args, in a private mount namespace where each volume
//   is bind-mounted at the Pod's mountPath (read-only where the Pod says so),
//   the token at /var/run/secrets/kubernetes.io/serviceaccount and a file at
//   the container's terminationMessagePath;
// - sets the Pod's phase and container state from the exit code and
//   termination message, which the Job controller then acts on.
// Not emulated: the image's user (the process runs as root in its
// namespace), resource limits, the read-only root filesystem.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { BIN, ROOT } from "../../support/function-server.ts";
import { at, type Json, type Kube, log } from "./kube.ts";

const SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface PodRun {
  cluster: string;
  namespace: string;
  name: string;
  args: string[];
  exitCode: number;
  output: string;
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export class NodePlayer {
  private readonly handled = new Set<string>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  readonly runs: PodRun[] = [];
  /** Exit code to force for the next Pods (e.g. a crash), consumed one per Pod. */
  readonly failNext: number[] = [];
  /** While true, Pods stay Pending, as on a node whose kubelet has not started them yet. */
  held = false;

  private readonly kube: Kube;
  private readonly apiPort: number;
  private readonly caFile: string;
  /** Where each Pod's volumes and files are made: not under /tmp, which a Pod's own emptyDir covers. */
  private readonly workRoot: string;

  constructor(kube: Kube, apiPort: number, caFile: string, workRoot: string) {
    this.kube = kube;
    this.apiPort = apiPort;
    this.caFile = caFile;
    this.workRoot = workRoot;
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.tick();
        } catch (err) {
          log(`node ${this.kube.name}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async tick(): Promise<void> {
    if (this.held) return;
    const pods = await this.kube.list("pods");
    for (const pod of pods) {
      const uid = String(at(pod, "metadata", "uid"));
      if (this.handled.has(uid) || at(pod, "status", "phase") !== "Pending" || at(pod, "metadata", "deletionTimestamp")) continue;
      this.handled.add(uid);
      await this.runPod(pod);
    }
  }

  private async runPod(pod: Json): Promise<void> {
    const ns = String(at(pod, "metadata", "namespace"));
    const name = String(at(pod, "metadata", "name"));
    const container = (at(pod, "spec", "containers", 0) ?? {}) as Json;
    const args = (at(container, "args") as string[] | undefined) ?? [];
    await mkdir(this.workRoot, { recursive: true });
    const work = await mkdtemp(join(this.workRoot, `${name}-`));
    try {
      const mounts = await this.mounts(pod, container, work);
      if (mounts === undefined) {
        // A claim not yet bound: the kubelet would wait too.
        this.handled.delete(String(at(pod, "metadata", "uid")));
        return;
      }
      const env = await this.env(ns, container);
      const sa = join(work, "serviceaccount");
      await mkdir(sa, { recursive: true });
      await writeFile(join(sa, "token"), await this.kube.token(ns, String(at(pod, "spec", "serviceAccountName") ?? "default")));
      await writeFile(join(sa, "ca.crt"), await readFile(this.caFile));
      await writeFile(join(sa, "namespace"), ns);
      mounts.push({ source: sa, target: SA_MOUNT, readOnly: true });
      const termPath = String(at(container, "terminationMessagePath") ?? "/dev/termination-log");
      const termFile = join(work, "termination-log");
      await writeFile(termFile, "");

      log(`node ${this.kube.name}: running pod ${ns}/${name}: function-model-cache ${args.join(" ")}`);
      const forced = this.failNext.shift();
      const { code, output } = forced !== undefined ? { code: forced, output: "forced failure" } : await this.exec(args, env, mounts, termPath, termFile, work);
      const message = (await readFile(termFile, "utf8").catch(() => "")) || output.slice(-2048);
      this.runs.push({ cluster: this.kube.name, namespace: ns, name, args, exitCode: code, output });
      log(`node ${this.kube.name}: pod ${ns}/${name} exited ${code}${code === 0 ? "" : `: ${message.slice(0, 300)}`}`);
      await this.kube.patch(
        "pod",
        name,
        {
          status: {
            phase: code === 0 ? "Succeeded" : "Failed",
            containerStatuses: [
              {
                name: String(at(container, "name")),
                image: String(at(container, "image")),
                imageID: "",
                ready: false,
                restartCount: 0,
                state: { terminated: { exitCode: code, reason: code === 0 ? "Completed" : "Error", message: message.slice(0, 4096) } },
              },
            ],
          },
        },
        { namespace: ns, subresource: "status" },
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async mounts(pod: Json, container: Json, work: string): Promise<Mount[] | undefined> {
    const ns = String(at(pod, "metadata", "namespace"));
    const volumes = (at(pod, "spec", "volumes") as Json[] | undefined) ?? [];
    const dirs = new Map<string, string>();
    for (const v of volumes) {
      const vname = String(v["name"]);
      const claim = at(v, "persistentVolumeClaim", "claimName");
      if (typeof claim === "string") {
        const pvc = await this.kube.get("pvc", claim, ns);
        const pvName = at(pvc, "spec", "volumeName");
        if (at(pvc, "status", "phase") !== "Bound" || typeof pvName !== "string") return undefined;
        const path = at(await this.kube.get("pv", pvName), "spec", "hostPath", "path");
        if (typeof path !== "string") throw new Error(`PV ${pvName} has no hostPath`);
        dirs.set(vname, path);
        continue;
      }
      const dir = join(work, "volumes", vname);
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
      const secret = at(v, "secret", "secretName");
      const cm = at(v, "configMap", "name");
      if (typeof secret === "string" || typeof cm === "string") {
        const obj = typeof secret === "string" ? await this.kube.get("secret", secret, ns) : await this.kube.get("configmap", String(cm), ns);
        if (obj === undefined) throw new Error(`volume ${vname}: ${typeof secret === "string" ? `Secret ${secret}` : `ConfigMap ${String(cm)}`} not found`);
        const data = (obj["data"] ?? {}) as Record<string, string>;
        for (const [k, val] of Object.entries(data)) await writeFile(join(dir, k), typeof secret === "string" ? Buffer.from(val, "base64") : val);
      }
      dirs.set(vname, dir);
    }
    const mounts: Mount[] = [];
    for (const m of (at(container, "volumeMounts") as Json[] | undefined) ?? []) {
      const source = dirs.get(String(m["name"]));
      if (source === undefined) throw new Error(`volumeMount ${String(m["name"])} names no volume`);
      mounts.push({ source, target: String(m["mountPath"]), readOnly: m["readOnly"] === true });
    }
    return mounts;
  }

  private async env(ns: string, container: Json): Promise<Record<string, string>> {
    const out: Record<string, string> = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: "/tmp",
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      KUBERNETES_SERVICE_PORT: String(this.apiPort),
    };
    for (const e of (at(container, "env") as Json[] | undefined) ?? []) {
      const name = String(e["name"]);
      if (typeof e["value"] === "string") out[name] = e["value"];
      const sk = at(e, "valueFrom", "secretKeyRef") as Json | undefined;
      const ck = at(e, "valueFrom", "configMapKeyRef") as Json | undefined;
      const fr = at(e, "valueFrom", "fieldRef", "fieldPath");
      if (sk) {
        const s = await this.kube.get("secret", String(sk["name"]), ns);
        const v = at(s, "data", String(sk["key"]));
        if (typeof v === "string") out[name] = Buffer.from(v, "base64").toString();
        else if (sk["optional"] !== true) throw new Error(`env ${name}: Secret ${String(sk["name"])} key ${String(sk["key"])} not found`);
      }
      if (ck) {
        const v = at(await this.kube.get("configmap", String(ck["name"]), ns), "data", String(ck["key"]));
        if (typeof v === "string") out[name] = v;
      }
      if (fr === "metadata.namespace") out[name] = ns;
    }
    return out;
  }

  /**
   * Runs the entrypoint with `args` in a private mount namespace holding the
   * Pod's mounts. Every source is first bound under a staging directory in
   * /run, then from there onto its target: a Pod mounting something at /tmp
   * would otherwise hide sources that live under /tmp.
   */
  private exec(
    args: string[],
    env: Record<string, string>,
    mounts: Mount[],
    termPath: string,
    termFile: string,
    work: string,
  ): Promise<{ code: number; output: string }> {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const stage = `/run/fmc-node-${process.pid}-${basename(work)}`;
    // /dev with the termination message file: the host's devices bound into a
    // fresh directory, so nothing is created in the host's /dev.
    const dev = join(work, "dev");
    const all: Mount[] = [...mounts, { source: dev, target: "/dev", readOnly: false }];
    const lines = ["set -e", `mkdir -p ${q(dev)}`];
    for (const d of ["null", "zero", "random", "urandom", "full", "tty"]) lines.push(`touch ${q(join(dev, d))}`, `mount --bind /dev/${d} ${q(join(dev, d))}`);
    lines.push(`ln -s /proc/self/fd ${q(join(dev, "fd"))}`, `mkdir -p ${q(join(dev, "shm"))}`);
    const term = join(dev, termPath.replace(/^\/dev\//, ""));
    lines.push(`touch ${q(term)}`, `mount --bind ${q(termFile)} ${q(term)}`);
    all.forEach((m, i) => lines.push(`mkdir -p ${q(`${stage}/${i}`)}`, `mount --rbind ${q(m.source)} ${q(`${stage}/${i}`)}`));
    all.forEach((m, i) => {
      lines.push(`mkdir -p ${q(m.target)}`, `mount --rbind ${q(`${stage}/${i}`)} ${q(m.target)}`);
      if (m.readOnly) lines.push(`mount -o remount,bind,ro ${q(m.target)}`);
    });
    // The image's entrypoint is this checkout run by this Node; both are staged too, since either may live under /tmp.
    lines.splice(
      2,
      0,
      `mkdir -p ${q(`${stage}/app`)}`,
      `mount --rbind ${q(ROOT)} ${q(`${stage}/app`)}`,
      `touch ${q(`${stage}/node`)}`,
      `mount --bind ${q(process.execPath)} ${q(`${stage}/node`)}`,
    );
    lines.push(`exec ${q(`${stage}/node`)} ${q(`${stage}/app/${relative(ROOT, BIN)}`)} ${args.map(q).join(" ")}`);
    return new Promise((resolve) => {
      const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", lines.join("\n")], { env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-65536)));
      child.stderr.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-65536)));
      child.on("close", (code) => {
        // The staging directories were mount points only inside the Pod's namespace: empty here.
        void rm(stage, { recursive: true, force: true }).then(() => resolve({ code: code ?? 137, output }));
      });
    });
  }
}
