import { describe, expect, it } from "vitest";
import { Source } from "../api/artifact.ts";
import { CREDENTIAL_KEYS, KIND_FLAGS, SOURCE_KEYS, SOURCE_KINDS, sourceKindOf } from "./registry.ts";
import { CredentialDestinations } from "../api/input.ts";
import { HYDRATE_FLAGS } from "../hydrator/invocation.ts";
import type { Credential, Fetch, SourcePlan } from "./kind.ts";
import type { JsonValue } from "../sdk/types.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const SHA = "a".repeat(64);
const DIGEST = `sha256:${"b".repeat(64)}`;
const CM = "cache-src";
/** The composer's answer for a claim elsewhere: its bridge in the Job's namespace (here a readable stand-in name). */
const claimSeenByJob = (namespace: string | undefined, claimName: string): string =>
  namespace === undefined ? claimName : `bridge-of-${namespace}-${claimName}`;

interface Case {
  reason: string;
  source: unknown;
  pinnedRevision?: string;
  want: {
    key: string;
    identity: JsonValue;
    line: string;
    immutableRevision: string | undefined;
    revisionComparable: boolean;
    fetches: Fetch[];
    credential: (Credential & { list: string }) | undefined;
    plan: Partial<SourcePlan>;
  };
}

const AT = "spec.artifact.source";
const none = { env: [], volumes: [], mounts: [], secrets: [] };

const cases: Case[] = [
  {
    reason: "a hub branch: not pinned by itself, fetched from the public hub, with its token by reference",
    source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", include: ["*.json"], tokenSecretRef: { name: "hf" } } },
    want: {
      key: "huggingFace",
      identity: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", include: ["*.json"], exclude: null } },
      line: "hf://Qwen/Qwen3-8B@main",
      immutableRevision: undefined,
      revisionComparable: true,
      fetches: [{ field: `${AT}.huggingFace`, url: "https://huggingface.co", defaulted: true }],
      credential: { list: "huggingFace", secretField: `${AT}.huggingFace.tokenSecretRef` },
      plan: {
        ...none,
        args: { source: "hf://Qwen/Qwen3-8B@main", include: ["*.json"] },
        env: [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf", key: "token" } } }],
        secrets: ["hf"],
      },
    },
  },
  {
    reason: "a hub branch pinned by the fleet: the Job fetches the pinned commit, from the mirror the spec names",
    source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", endpoint: "https://hf-mirror.example" } },
    pinnedRevision: COMMIT,
    want: {
      key: "huggingFace",
      identity: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", include: null, exclude: null } },
      line: "hf://Qwen/Qwen3-8B@main",
      immutableRevision: undefined,
      revisionComparable: true,
      fetches: [{ field: `${AT}.huggingFace.endpoint`, url: "https://hf-mirror.example", defaulted: false }],
      credential: undefined,
      plan: { ...none, args: { source: `hf://Qwen/Qwen3-8B@${COMMIT}`, endpoint: "https://hf-mirror.example" } },
    },
  },
  {
    reason: "a hub commit pins itself",
    source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: COMMIT } },
    want: {
      key: "huggingFace",
      identity: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: COMMIT, include: null, exclude: null } },
      line: `hf://Qwen/Qwen3-8B@${COMMIT}`,
      immutableRevision: COMMIT,
      revisionComparable: true,
      fetches: [{ field: `${AT}.huggingFace`, url: "https://huggingface.co", defaulted: true }],
      credential: undefined,
      plan: { ...none, args: { source: `hf://Qwen/Qwen3-8B@${COMMIT}` } },
    },
  },
  {
    reason: "an S3 prefix in a region: AWS's regional endpoint, keys by reference, the session token optional",
    source: { s3: { uri: "s3://models/qwen/", region: "eu-west-1", pathStyle: true, credentialsSecretRef: { name: "aws" } } },
    want: {
      key: "s3",
      identity: { s3: { uri: "s3://models/qwen/", endpoint: null, region: "eu-west-1" } },
      line: "s3://models/qwen/",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [{ field: `${AT}.s3.region`, url: "https://s3.eu-west-1.amazonaws.com", defaulted: false }],
      credential: { list: "s3", secretField: `${AT}.s3.credentialsSecretRef` },
      plan: {
        ...none,
        args: { source: "s3://models/qwen/", s3Region: "eu-west-1", s3PathStyle: true },
        env: [
          { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "aws", key: "AWS_ACCESS_KEY_ID" } } },
          { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "aws", key: "AWS_SECRET_ACCESS_KEY" } } },
          { name: "AWS_SESSION_TOKEN", valueFrom: { secretKeyRef: { name: "aws", key: "AWS_SESSION_TOKEN", optional: true } } },
        ],
        secrets: ["aws"],
      },
    },
  },
  {
    reason: "a GCS prefix with a service-account key: the key a mounted file (never a variable's value), its token for Google's endpoint",
    source: { gcs: { uri: "gs://models/qwen/", credentialsSecretRef: { name: "gcp" } } },
    want: {
      key: "gcs",
      identity: { gcs: { uri: "gs://models/qwen/", endpoint: null } },
      line: "gs://models/qwen/",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [
        { field: `${AT}.gcs`, url: "https://storage.googleapis.com", defaulted: true },
        { field: `${AT}.gcs.credentialsSecretRef`, url: "https://oauth2.googleapis.com", defaulted: false },
      ],
      credential: { list: "gcs", secretField: `${AT}.gcs.credentialsSecretRef` },
      plan: {
        args: { source: "gs://models/qwen/" },
        env: [{ name: "GOOGLE_APPLICATION_CREDENTIALS", value: "/etc/modelcache/gcs/key.json" }],
        volumes: [{ name: "gcs-credentials", secret: { secretName: "gcp", items: [{ key: "key.json", path: "key.json" }] } }],
        mounts: [{ name: "gcs-credentials", mountPath: "/etc/modelcache/gcs", readOnly: true }],
        secrets: ["gcp"],
      },
    },
  },
  {
    reason: "a GCS prefix pinned by the fleet, on an emulator: the Job reads the pinned generations; the Secret's own key name",
    source: { gcs: { uri: "gs://models/qwen", endpoint: "http://gcs.example:4443", credentialsSecretRef: { name: "gcp", key: "sa.json" } } },
    pinnedRevision: `generations:1796290569003451:sha256:${SHA}`,
    want: {
      key: "gcs",
      identity: { gcs: { uri: "gs://models/qwen", endpoint: "http://gcs.example:4443" } },
      line: "gs://models/qwen",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [
        { field: `${AT}.gcs.endpoint`, url: "http://gcs.example:4443", defaulted: false },
        { field: `${AT}.gcs.credentialsSecretRef`, url: "https://oauth2.googleapis.com", defaulted: false },
      ],
      credential: { list: "gcs", secretField: `${AT}.gcs.credentialsSecretRef` },
      plan: {
        args: { source: "gs://models/qwen", endpoint: "http://gcs.example:4443", gcsGenerations: `generations:1796290569003451:sha256:${SHA}` },
        env: [{ name: "GOOGLE_APPLICATION_CREDENTIALS", value: "/etc/modelcache/gcs/key.json" }],
        volumes: [{ name: "gcs-credentials", secret: { secretName: "gcp", items: [{ key: "sa.json", path: "key.json" }] } }],
        mounts: [{ name: "gcs-credentials", mountPath: "/etc/modelcache/gcs", readOnly: true }],
        secrets: ["gcp"],
      },
    },
  },
  {
    reason: "a public GCS object, pinned to a revision of another form (a manual pin): no key, no generations flag",
    source: { gcs: { uri: "gs://public-models/qwen/model.gguf" } },
    pinnedRevision: DIGEST,
    want: {
      key: "gcs",
      identity: { gcs: { uri: "gs://public-models/qwen/model.gguf", endpoint: null } },
      line: "gs://public-models/qwen/model.gguf",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [{ field: `${AT}.gcs`, url: "https://storage.googleapis.com", defaulted: true }],
      credential: undefined,
      plan: { ...none, args: { source: "gs://public-models/qwen/model.gguf" } },
    },
  },
  {
    reason: "one HTTP URL pinned by its digest travels as arguments; its credential goes to that URL",
    source: { http: { url: "https://files.example/m.gguf", sha256: SHA, authSecretRef: { name: "tok" } } },
    want: {
      key: "http",
      identity: { http: { url: "https://files.example/m.gguf", sha256: SHA, files: null } },
      line: "https://files.example/m.gguf",
      // sha256 of "<sha256>  <url>\n", the list form of SHA256SUMS
      immutableRevision: "sha256:4ddc2e30617e4e1913f474c696aa71cb37c988b69165cbec501925b6d58210df",
      revisionComparable: false,
      fetches: [{ field: `${AT}.http.url`, url: "https://files.example/m.gguf", defaulted: false }],
      credential: { list: "http", secretField: `${AT}.http.authSecretRef`, everyUrl: true },
      plan: {
        ...none,
        args: { source: "https://files.example/m.gguf", sha256: SHA },
        env: [{ name: "MODELCACHE_HTTP_TOKEN", valueFrom: { secretKeyRef: { name: "tok", key: "token" } } }],
        secrets: ["tok"],
      },
    },
  },
  {
    reason: "a presigned URL (a query) never becomes an argument: it travels in the files ConfigMap, and status shows it without the query",
    source: { http: { url: "https://b.example/m.bin?X-Amz-Signature=secret", sha256: SHA } },
    want: {
      key: "http",
      identity: { http: { url: "https://b.example/m.bin?X-Amz-Signature=secret", sha256: SHA, files: null } },
      line: "https://b.example/m.bin",
      immutableRevision: "sha256:70f8a0033d923d6ee181b94d1725d9166b8e2b33c8f09d20e3440783dbdd6f1b",
      revisionComparable: false,
      fetches: [{ field: `${AT}.http.url`, url: "https://b.example/m.bin?X-Amz-Signature=secret", defaulted: false }],
      credential: undefined,
      plan: {
        ...none,
        args: { files: "/etc/modelcache/source/files.json" },
        volumes: [{ name: "source", configMap: { name: CM } }],
        mounts: [{ name: "source", mountPath: "/etc/modelcache/source", readOnly: true }],
        configMap: {
          data: { "files.json": JSON.stringify([{ url: "https://b.example/m.bin?X-Amz-Signature=secret", sha256: SHA }]) },
          items: [{ key: "files.json", path: "files.json" }],
        },
      },
    },
  },
  {
    reason: "an OCI tag pinned by the fleet: the Job pulls the pinned manifest digest over plain HTTP as the spec asks",
    source: { oci: { reference: "registry.example:5000/models/qwen:v1", insecure: true, pullSecretRef: { name: "pull" } } },
    pinnedRevision: DIGEST,
    want: {
      key: "oci",
      identity: { oci: { reference: "registry.example:5000/models/qwen:v1" } },
      line: "oci://registry.example:5000/models/qwen:v1",
      immutableRevision: undefined,
      revisionComparable: true,
      fetches: [{ field: `${AT}.oci.reference`, url: "http://registry.example:5000", defaulted: false }],
      credential: { list: "oci", secretField: `${AT}.oci.pullSecretRef` },
      plan: {
        args: { source: `oci://registry.example:5000/models/qwen@${DIGEST}`, plainHttp: true },
        env: [{ name: "REGISTRY_AUTH_FILE", value: "/var/run/secrets/modelcache.dev/registry/config.json" }],
        volumes: [{ name: "registry-auth", secret: { secretName: "pull", items: [{ key: ".dockerconfigjson", path: "config.json" }] } }],
        mounts: [{ name: "registry-auth", mountPath: "/var/run/secrets/modelcache.dev/registry", readOnly: true }],
        secrets: ["pull"],
      },
    },
  },
  {
    reason: "inline files pin themselves by their content and travel in the source ConfigMap, one key per file",
    source: { inline: { files: [{ path: "tokenizer/chat.jinja", content: "{{ x }}" }] } },
    want: {
      key: "inline",
      identity: { inline: { files: [{ path: "tokenizer/chat.jinja", content: "{{ x }}" }] } },
      line: "1 inline files",
      // sha256 of the files as canonical JSON
      immutableRevision: "sha256:579adc9b5ef0a1f538c9ccfecd3c7f872b900857f274942c9cd4d4d0865f9ba6",
      revisionComparable: false,
      fetches: [],
      credential: undefined,
      plan: {
        ...none,
        args: { source: "file:///etc/modelcache/source" },
        volumes: [{ name: "source", configMap: { name: CM, items: [{ key: "f0", path: "tokenizer/chat.jinja" }] } }],
        mounts: [{ name: "source", mountPath: "/etc/modelcache/source", readOnly: true }],
        configMap: { data: { f0: "{{ x }}" }, items: [{ key: "f0", path: "tokenizer/chat.jinja" }] },
      },
    },
  },
  {
    reason: "a ConfigMap on the cluster is mounted as it is; nothing is fetched over the network",
    source: { configMap: { name: "templates" } },
    want: {
      key: "configMap",
      identity: { configMap: { name: "templates" } },
      line: "configmap/templates",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [],
      credential: undefined,
      plan: {
        ...none,
        args: { source: "file:///etc/modelcache/source" },
        volumes: [{ name: "source", configMap: { name: "templates" } }],
        mounts: [{ name: "source", mountPath: "/etc/modelcache/source", readOnly: true }],
      },
    },
  },
  {
    reason: "a claim in the cache's own namespace: pinned by the first cluster to verify; a copy mounts the claim read-only",
    source: { pvcClone: { claimName: "qwen-golden" } },
    want: {
      key: "pvcClone",
      identity: { pvcClone: { claimName: "qwen-golden", namespace: null, method: "Auto", manifestDigest: null } },
      line: "pvc://qwen-golden",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [],
      credential: undefined,
      plan: {
        ...none,
        args: { source: "pvc:///etc/modelcache/source" },
        volumes: [{ name: "source", persistentVolumeClaim: { claimName: "qwen-golden", readOnly: true } }],
        mounts: [{ name: "source", mountPath: "/etc/modelcache/source", readOnly: true }],
      },
    },
  },
  {
    reason:
      "a claim in a granted namespace with its manifest digest: pinned from the source, the method is part of the identity; a copy mounts the claim the composer names for it (its bridge), never the source's name in the Job's namespace",
    source: { pvcClone: { claimName: "qwen-golden", namespace: "models", method: "Copy", manifestDigest: DIGEST } },
    want: {
      key: "pvcClone",
      identity: { pvcClone: { claimName: "qwen-golden", namespace: "models", method: "Copy", manifestDigest: DIGEST } },
      line: "pvc://models/qwen-golden",
      immutableRevision: DIGEST,
      revisionComparable: false,
      fetches: [],
      credential: undefined,
      plan: {
        ...none,
        args: { source: "pvc:///etc/modelcache/source" },
        volumes: [{ name: "source", persistentVolumeClaim: { claimName: "bridge-of-models-qwen-golden", readOnly: true } }],
        mounts: [{ name: "source", mountPath: "/etc/modelcache/source", readOnly: true }],
      },
    },
  },
  {
    reason:
      "an Azure prefix pinned to versions, a SAS token or key by reference: the account's public-cloud endpoint, the pin passed on, the Secret named so an empty one fails by name",
    source: { azure: { uri: "azure://acct/models/qwen/", credentialsSecretRef: { name: "az" } } },
    pinnedRevision: `versions:2026-01-02T03:04:05.0000006Z:sha256:${"c".repeat(64)}`,
    want: {
      key: "azure",
      identity: { azure: { uri: "azure://acct/models/qwen/", endpoint: null } },
      line: "azure://acct/models/qwen/",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [{ field: `${AT}.azure.uri`, url: "https://acct.blob.core.windows.net", defaulted: true }],
      credential: { list: "azure", secretField: `${AT}.azure.credentialsSecretRef` },
      plan: {
        ...none,
        // The Job finds the pinned set from the newest version and checks its digest (--azure-versions).
        args: { source: "azure://acct/models/qwen/", azureVersions: `versions:2026-01-02T03:04:05.0000006Z:sha256:${"c".repeat(64)}` },
        env: [
          { name: "AZURE_STORAGE_SAS_TOKEN", valueFrom: { secretKeyRef: { name: "az", key: "AZURE_STORAGE_SAS_TOKEN", optional: true } } },
          { name: "AZURE_STORAGE_KEY", valueFrom: { secretKeyRef: { name: "az", key: "AZURE_STORAGE_KEY", optional: true } } },
          { name: "AZURE_STORAGE_CREDENTIALS_SECRET", value: "az" },
        ],
        secrets: ["az"],
      },
    },
  },
  {
    reason: "an Azure blob in a sovereign cloud, public: the endpoint decides the origin and is part of the identity",
    source: { azure: { uri: "azure://acct/models/qwen/model.bin", endpoint: "https://acct.blob.core.usgovcloudapi.net" } },
    want: {
      key: "azure",
      identity: { azure: { uri: "azure://acct/models/qwen/model.bin", endpoint: "https://acct.blob.core.usgovcloudapi.net" } },
      line: "azure://acct/models/qwen/model.bin",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [{ field: `${AT}.azure.endpoint`, url: "https://acct.blob.core.usgovcloudapi.net", defaulted: false }],
      credential: undefined,
      plan: { ...none, args: { source: "azure://acct/models/qwen/model.bin", endpoint: "https://acct.blob.core.usgovcloudapi.net" } },
    },
  },
  {
    reason:
      "the account's default endpoint written out changes no bytes: the same identity (and volume) as without it; an ETags pin names nothing to read by, so it stays out of the arguments",
    source: { azure: { uri: "azure://acct/models/qwen/", endpoint: "https://acct.blob.core.windows.net/" } },
    pinnedRevision: `etags:sha256:${"c".repeat(64)}`,
    want: {
      key: "azure",
      identity: { azure: { uri: "azure://acct/models/qwen/", endpoint: null } },
      line: "azure://acct/models/qwen/",
      immutableRevision: undefined,
      revisionComparable: false,
      fetches: [{ field: `${AT}.azure.endpoint`, url: "https://acct.blob.core.windows.net/", defaulted: false }],
      credential: undefined,
      plan: { ...none, args: { source: "azure://acct/models/qwen/", endpoint: "https://acct.blob.core.windows.net/" } },
    },
  },
];

describe("each source kind answers for its own sources", () => {
  it.each(cases)("$reason", ({ source, pinnedRevision, want }) => {
    const parsed = Source.parse(source);
    const kind = sourceKindOf(parsed);
    if (kind === undefined) throw new Error("no kind");
    const plan = kind.plan({ pinnedRevision, sourceConfigMap: CM, claimSeenByJob });
    const got = {
      key: kind.key,
      identity: kind.identity(),
      line: kind.line(),
      immutableRevision: kind.immutableRevision(),
      revisionComparable: kind.revisionComparable,
      fetches: kind.fetches(AT),
      credential: kind.credential(AT),
      plan: plan.ok ? plan.value : plan.error,
    };
    expect(got).toEqual(want);
  });
});

describe("the registry", () => {
  it("has one kind per spec.artifact.source field, keyed by its own name, in the XRD's order", () => {
    expect(SOURCE_KEYS).toEqual(["huggingFace", "s3", "gcs", "azure", "http", "oci", "inline", "configMap", "pvcClone"]);
    for (const k of SOURCE_KEYS) expect(SOURCE_KINDS[k].key).toBe(k);
  });

  it("gives every URI scheme a Job can be handed to exactly one kind's fetcher", () => {
    const schemes = SOURCE_KEYS.flatMap((k) => SOURCE_KINDS[k].fetcher?.schemes ?? []);
    expect(new Set(schemes).size).toBe(schemes.length);
    expect(schemes.sort()).toEqual(["azure", "gs", "hf", "http", "https", "oci", "pvc", "s3"]);
  });

  it("merges the kinds' own hydrator flags without a clash: each field and flag name declared once, by one kind or the core", () => {
    const fields = SOURCE_KEYS.flatMap((k) => Object.keys(SOURCE_KINDS[k].flags ?? {}));
    expect(new Set(fields).size).toBe(fields.length);
    expect(Object.keys(KIND_FLAGS).sort()).toEqual([...fields].sort());
    // Spread last into HYDRATE_FLAGS, a kind's field named like a core one would silently replace it.
    const names = Object.values(HYDRATE_FLAGS).map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.keys(HYDRATE_FLAGS).length).toBe(names.length);
    for (const [field, flag] of Object.entries(KIND_FLAGS)) expect(HYDRATE_FLAGS[field as keyof typeof HYDRATE_FLAGS]).toBe(flag);
  });

  it("gives each kind that sends a credential its own allow-list in the Input, and no other kind one", () => {
    const sends = SOURCE_KEYS.filter((k) => SOURCE_KINDS[k].credential !== undefined);
    expect(CREDENTIAL_KEYS).toEqual(sends);
    expect(Object.keys(CredentialDestinations.shape).sort()).toEqual([...sends].sort());
    expect(Object.keys(CredentialDestinations.parse({})).sort()).toEqual([...sends].sort());
  });

  it("refuses inline files too large for one ConfigMap, naming the field", () => {
    const big = Source.parse({ inline: { files: Array.from({ length: 4 }, (_, i) => ({ path: `f${i}`, content: "x".repeat(250_000) })) } });
    const plan = sourceKindOf(big)?.plan({ pinnedRevision: undefined, sourceConfigMap: CM, claimSeenByJob });
    expect(plan).toEqual({
      ok: false,
      error: {
        field: "spec.artifact.source.inline.files",
        message: "hold 1000000 bytes; inline files must fit one ConfigMap (921600 bytes): use another source",
      },
    });
  });
});
