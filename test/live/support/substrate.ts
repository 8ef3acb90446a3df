// The reference substrate of the Custom backend (examples/custom-backend-reference) on a target cluster, the way
// its deploy.yaml runs it, minus the Deployment (no kubelet runs here): its CRD, namespace, ServiceAccount and RBAC
// applied from the example's own files, and its controller (controller/main.ts, unchanged) a local process that
// talks to the API server with a token of that ServiceAccount, so a right deploy.yaml lacks fails here as it
// would on a cluster. The Jobs it creates are run by the node player like any other.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ROOT } from "../../support/function-server.ts";
import { type Json, type Kube, log } from "./kube.ts";

export const SUBSTRATE_DIR = join(ROOT, "examples", "custom-backend-reference");
const NAMESPACE = "modelvolume-system";
const ACCOUNT = "modelvolume-controller";

export class ReferenceSubstrate {
  /** The last 100 kB the controller printed (it logs only failures). */
  output = "";
  private child: ChildProcess | undefined;

  private readonly kube: Kube;
  private readonly apiPort: number;
  private readonly caFile: string;
  private readonly workDir: string;
  private readonly env: { image: string; storageClass: string };

  constructor(kube: Kube, apiPort: number, caFile: string, workDir: string, env: { image: string; storageClass: string }) {
    this.kube = kube;
    this.apiPort = apiPort;
    this.caFile = caFile;
    this.workDir = workDir;
    this.env = env;
  }

  /** Installs the CRD and the controller's RBAC from the example's files, then starts the controller. */
  async start(): Promise<void> {
    await this.kube.kubectl(["apply", "-f", join(SUBSTRATE_DIR, "crd.yaml")]);
    await this.kube.kubectl(["wait", "--for=condition=Established", "crd/modelvolumes.volumes.example.com", "--timeout=60s"]);
    await this.kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
    const docs = parseAllDocuments(await readFile(join(SUBSTRATE_DIR, "deploy.yaml"), "utf8")).map((d) => d.toJSON() as Json);
    const rbac = docs.filter((d) => d["kind"] !== "Deployment");
    log(`${this.kube.name}: reference substrate: applying its CRD and ${rbac.map((d) => String(d["kind"])).join(", ")} from deploy.yaml`);
    await this.kube.apply(rbac);
    const sa = join(this.workDir, "serviceaccount");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), await this.kube.token(NAMESPACE, ACCOUNT));
    const child = spawn(process.execPath, [join(SUBSTRATE_DIR, "controller", "main.ts")], {
      cwd: SUBSTRATE_DIR,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env["PATH"] ?? "",
        HYDRATOR_IMAGE: this.env.image,
        STORAGE_CLASS: this.env.storageClass,
        DEFAULT_SIZE: "1Gi",
        INTERVAL_SECONDS: "2",
        SERVICE_ACCOUNT_DIR: sa,
        KUBERNETES_SERVICE_HOST: "127.0.0.1",
        KUBERNETES_SERVICE_PORT: String(this.apiPort),
        NODE_EXTRA_CA_CERTS: this.caFile,
      },
    });
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-100_000);
      for (const line of d.toString().split("\n")) if (line.trim() !== "") log(`${this.kube.name}: modelvolume-controller: ${line}`);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.child = child;
  }

  /** Whether the controller is still running (it only exits on a bug). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}
