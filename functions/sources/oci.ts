// oci: an artifact or image in an OCI registry, by tag or digest. A digest
// pins itself; a tag is pinned to the manifest digest the first cluster
// verified.
import { z } from "zod";
import { LocalObjectReference } from "../api/k8s.ts";
import { redactUri } from "../api/redact.ts";
import { argsOnly, type SourceKind } from "./kind.ts";

/** Where an OCI pull secret's dockerconfigjson is mounted. */
export const REGISTRY_AUTH_MOUNT = "/var/run/secrets/modelcache.dev/registry";

/**
 * registry[:port]/repo[/...](:tag|@sha256:digest), as the OCI distribution spec names them. The registry is a
 * host with a dot, a port, or localhost: `library/ubuntu:22.04` is a repository path with no registry, refused here
 * as the hydrator refuses it (Docker's tools would silently add docker.io).
 */
const OCI_REFERENCE =
  /^([a-z0-9]+([_-][a-z0-9]+)*(\.[a-z0-9]+([_-][a-z0-9]+)*)+(:[0-9]+)?|[a-z0-9]+([_-][a-z0-9]+)*:[0-9]+|localhost)(\/[a-z0-9]+([._-]|__|-+)?[a-z0-9]*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$/;
const OCI_DIGEST = /@(sha256:[0-9a-f]{64})$/;
const MANIFEST_DIGEST = /^sha256:[0-9a-f]{64}$/;

export const OciSource = z
  .object({
    reference: z.string().max(1024).regex(OCI_REFERENCE, "must be registry/repository:tag or registry/repository@sha256:<digest>"),
    pullSecretRef: LocalObjectReference.optional().describe("A kubernetes.io/dockerconfigjson Secret."),
    insecure: z.boolean().optional().describe("Plain HTTP, for a registry on a private network."),
  })
  .strict();

/** The hydrator flag oci adds (the plan sets it from `insecure`; the fetcher reads it). */
export const OCI_FLAGS = { plainHttp: { name: "plain-http", type: "boolean" } } as const;

export const oci: SourceKind<typeof OciSource, typeof OCI_FLAGS, true> = {
  key: "oci",
  schema: OciSource,
  identity: (o) => ({ oci: { reference: o.reference } }),
  line: (o) => `oci://${o.reference}`,
  immutableRevision: (o) => OCI_DIGEST.exec(o.reference)?.[1],
  revisionComparable: true,
  fetches: (o, at) => [
    { field: `${at}.oci.reference`, url: `${o.insecure === true ? "http" : "https"}://${o.reference.split("/")[0] ?? ""}`, defaulted: false },
  ],
  credential: {
    destinations: { default: [], description: "Registries an oci pullSecretRef may be sent to: https://<registry host> (http:// with insecure)." },
    sent: (o, at) => (o.pullSecretRef !== undefined ? { secretField: `${at}.oci.pullSecretRef` } : undefined),
  },
  flags: OCI_FLAGS,
  plan(o, { pinnedRevision }) {
    // A pinned manifest digest replaces the tag.
    const ref =
      pinnedRevision !== undefined && MANIFEST_DIGEST.test(pinnedRevision)
        ? `${o.reference.replace(/(@sha256:[0-9a-f]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]*)$/, "")}@${pinnedRevision}`
        : o.reference;
    const plan = argsOnly({ source: `oci://${ref}`, ...(o.insecure ? { plainHttp: true } : {}) });
    if (!o.pullSecretRef) return { ok: true, value: plan };
    const secret = o.pullSecretRef.name;
    return {
      ok: true,
      value: {
        ...plan,
        env: [{ name: "REGISTRY_AUTH_FILE", value: `${REGISTRY_AUTH_MOUNT}/config.json` }],
        volumes: [{ name: "registry-auth", secret: { secretName: secret, items: [{ key: ".dockerconfigjson", path: "config.json" }] } }],
        mounts: [{ name: "registry-auth", mountPath: REGISTRY_AUTH_MOUNT, readOnly: true }],
        secrets: [secret],
      },
    };
  },
  fetcher: {
    schemes: ["oci"],
    usage: [
      "--source oci://registry/repo:tag|@sha256:...   (REGISTRY_AUTH_FILE or DOCKER_CONFIG; --plain-http for",
      "                                        a registry without TLS on a private network)",
    ],
    // Credentials from REGISTRY_AUTH_FILE / DOCKER_CONFIG; tar layers are unpacked safely by the engine.
    async create(uri, req) {
      const { createOciSource } = await import("../hydrator/sources/oci.ts");
      const s = createOciSource({ uri, env: req.env, ...(req.plainHttp ? { plainHttp: true } : {}) });
      return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
    },
  },
};
