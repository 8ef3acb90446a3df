// gcs: a prefix (or one object) in a Google Cloud Storage bucket, or an
// emulator or private endpoint speaking its JSON API. A prefix can change
// under us: pinned to the object generations the first cluster verified,
// which every other cluster then reads by generation (or fails, naming why).
import { z } from "zod";
import { SecretKeyReference } from "../api/k8s.ts";
import { redactUri } from "../api/redact.ts";
import { credentialFreeUrl } from "../api/source-fields.ts";
import { argsOnly, type SourceKind } from "./kind.ts";

export const GCS_ENDPOINT = "https://storage.googleapis.com";
/** Where the key's access token is made (the key's own token_uri, this by default). */
export const GCS_TOKEN_ORIGIN = "https://oauth2.googleapis.com";
/** Where the service-account key is mounted in the Job. */
export const GCS_KEY_MOUNT = "/etc/modelcache/gcs";
const DEFAULT_KEY = "key.json";
/** The form of a gcs resolved revision (functions/hydrator/sources/gcs.ts): only such a pin travels to the Job. */
const GENERATIONS_PIN = /^generations:[0-9]{1,20}:sha256:[0-9a-f]{64}$/;

export const GcsSource = z
  .object({
    uri: z
      .string()
      .max(1100)
      .regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/.*)?$/, "must be gs://<bucket>/<prefix> or gs://<bucket>/<object>"),
    endpoint: credentialFreeUrl("spec.artifact.source.gcs.credentialsSecretRef", { endpoint: true })
      .optional()
      .describe("The JSON API's base URL: an emulator or a private endpoint. Default https://storage.googleapis.com."),
    credentialsSecretRef: SecretKeyReference.optional().describe(
      "Secret holding a service-account JSON key (key: key.json unless set). Without it, reads are unauthenticated (a public bucket).",
    ),
  })
  .strict();

/** The hydrator flag gcs adds: the fleet's pin, so a second cluster reads the generations the first verified. */
export const GCS_FLAGS = { gcsGenerations: { name: "gcs-generations", type: "string" } } as const;

export const gcs: SourceKind<typeof GcsSource, typeof GCS_FLAGS, true> = {
  key: "gcs",
  schema: GcsSource,
  identity: (g) => ({ gcs: { uri: g.uri, endpoint: g.endpoint ?? null } }),
  line: (g) => redactUri(g.uri),
  immutableRevision: () => undefined,
  revisionComparable: false,
  fetches(g, at) {
    const storage =
      g.endpoint !== undefined
        ? { field: `${at}.gcs.endpoint`, url: g.endpoint, defaulted: false }
        : { field: `${at}.gcs`, url: GCS_ENDPOINT, defaulted: true };
    // With a key, the hydrator also asks Google's token endpoint for an access token.
    const token = g.credentialsSecretRef !== undefined ? [{ field: `${at}.gcs.credentialsSecretRef`, url: GCS_TOKEN_ORIGIN, defaulted: false }] : [];
    return [storage, ...token];
  },
  credential: {
    destinations: {
      default: [GCS_ENDPOINT],
      description: "Where a gcs credentialsSecretRef's access token may be sent: the endpoint, or https://storage.googleapis.com when none is set.",
    },
    sent: (g, at) => (g.credentialsSecretRef !== undefined ? { secretField: `${at}.gcs.credentialsSecretRef` } : undefined),
  },
  flags: GCS_FLAGS,
  plan(g, { pinnedRevision }) {
    const plan = argsOnly({
      source: g.uri,
      ...(g.endpoint ? { endpoint: g.endpoint } : {}),
      ...(pinnedRevision !== undefined && GENERATIONS_PIN.test(pinnedRevision) ? { gcsGenerations: pinnedRevision } : {}),
    });
    const ref = g.credentialsSecretRef;
    if (ref === undefined) return { ok: true, value: plan };
    // The key is a file (the form every Google client reads), mounted read-only: never an argument or a variable's value.
    return {
      ok: true,
      value: {
        ...plan,
        env: [{ name: "GOOGLE_APPLICATION_CREDENTIALS", value: `${GCS_KEY_MOUNT}/${DEFAULT_KEY}` }],
        volumes: [{ name: "gcs-credentials", secret: { secretName: ref.name, items: [{ key: ref.key ?? DEFAULT_KEY, path: DEFAULT_KEY }] } }],
        mounts: [{ name: "gcs-credentials", mountPath: GCS_KEY_MOUNT, readOnly: true }],
        secrets: [ref.name],
      },
    };
  },
  fetcher: {
    schemes: ["gs"],
    usage: ["--source gs://bucket/prefix             (GOOGLE_APPLICATION_CREDENTIALS: a service-account key; --endpoint, --gcs-generations)"],
    async create(uri, req) {
      const { createGcsSource } = await import("../hydrator/sources/gcs.ts");
      const s = createGcsSource({
        uri,
        env: req.env,
        ...(req.endpoint ? { endpoint: req.endpoint } : {}),
        ...(req.gcsGenerations ? { generations: req.gcsGenerations } : {}),
        ...(req.refusedAddresses ? { refusedAddresses: req.refusedAddresses } : {}),
      });
      return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
    },
  },
};
