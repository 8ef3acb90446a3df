// azure: a prefix (or one blob) in an Azure Blob Storage container, in the
// public cloud, a sovereign cloud, behind a private endpoint, or Azurite. A
// prefix can change under us: pinned to the blob versions (or ETags) the first
// cluster verified. Credentials: a SAS token or the account key, by Secret
// reference (docs/security.md says why not a connection string or Entra ID).
import { z } from "zod";
import { LocalObjectReference } from "../api/k8s.ts";
import { redactUri } from "../api/redact.ts";
import { credentialFreeUrl } from "../api/source-fields.ts";
import { argsOnly, secretEnv, type SourceKind } from "./kind.ts";

/**
 * azure://<account>/<container>[/<prefix>], in RE2 (the XRD's pattern): an account of 3-24 lowercase letters and
 * digits; a container of 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit
 * (no two hyphens in a row: the refinement below, which RE2 cannot say with the length); a prefix without '?' or
 * '#' (a SAS token goes in the Secret, never in the URI).
 */
const AZURE_URI = /^azure:\/\/[a-z0-9]{3,24}\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9](\/[^?#]*)?$/;

/** The account's blob service URL in Azure's public cloud: the default endpoint. */
export function defaultAzureEndpoint(uri: string): string {
  return `https://${uri.slice("azure://".length).split("/")[0] ?? ""}.blob.core.windows.net`;
}

export const AzureSource = z
  .object({
    uri: z
      .string()
      .max(1100)
      .regex(
        AZURE_URI,
        "must be azure://<account>/<container>/<prefix> (account: 3-24 lowercase letters and digits; container: 3-63 lowercase letters, digits and hyphens)",
      )
      .refine((u) => !(u.split("/")[3] ?? "").includes("--"), "the container name may not hold two hyphens in a row")
      .describe("azure://<account>/<container>/<prefix>: every blob under the prefix, or the one blob it names."),
    endpoint: credentialFreeUrl("spec.artifact.source.azure.credentialsSecretRef", { endpoint: true })
      .optional()
      .describe(
        "The account's blob service URL, when not https://<account>.blob.core.windows.net: a sovereign cloud, a private endpoint, Azurite (http://host:10000/<account>).",
      ),
    credentialsSecretRef: LocalObjectReference.optional().describe(
      "Secret with AZURE_STORAGE_SAS_TOKEN (a SAS token that may read and list the container) or AZURE_STORAGE_KEY (the account key). Without it, the container must be public.",
    ),
  })
  .strict();
type AzureSpec = z.infer<typeof AzureSource>;

/** The endpoint, or null when it is the account's default (writing the default out changes no bytes, so no volume). */
function endpointIdentity(s: AzureSpec): string | null {
  if (s.endpoint === undefined) return null;
  const given = s.endpoint.replace(/\/+$/, "");
  return given.toLowerCase() === defaultAzureEndpoint(s.uri) ? null : given;
}

/** The form of a versioned azure resolved revision (functions/hydrator/sources/azure.ts): only such a pin travels to the Job. */
const VERSIONS_PIN = /^versions:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z:sha256:[0-9a-f]{64}$/;

/** The hydrator flag azure adds: the fleet's pin, so a second cluster reads the versions the first verified. */
export const AZURE_FLAGS = { azureVersions: { name: "azure-versions", type: "string" } } as const;

export const azure: SourceKind<typeof AzureSource, typeof AZURE_FLAGS, true> = {
  key: "azure",
  schema: AzureSource,
  identity: (s) => ({ azure: { uri: s.uri, endpoint: endpointIdentity(s) } }),
  line: (s) => redactUri(s.uri),
  immutableRevision: () => undefined,
  revisionComparable: false,
  fetches: (s, at) =>
    s.endpoint !== undefined
      ? [{ field: `${at}.azure.endpoint`, url: s.endpoint, defaulted: false }]
      : [{ field: `${at}.azure.uri`, url: defaultAzureEndpoint(s.uri), defaulted: true }],
  credential: {
    destinations: {
      default: ["https://*.blob.core.windows.net"],
      description: "Where azure credentialsSecretRef may be sent: the endpoint, or https://<account>.blob.core.windows.net when none is set.",
    },
    sent: (s, at) => (s.credentialsSecretRef !== undefined ? { secretField: `${at}.azure.credentialsSecretRef` } : undefined),
  },
  flags: AZURE_FLAGS,
  plan(s, { pinnedRevision }) {
    const plan = argsOnly({
      source: s.uri,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      // A versions pin names the set exactly; an ETags pin names nothing the Job could read by (the manifest digest guards it).
      ...(pinnedRevision !== undefined && VERSIONS_PIN.test(pinnedRevision) ? { azureVersions: pinnedRevision } : {}),
    });
    if (!s.credentialsSecretRef) return { ok: true, value: plan };
    const secret = s.credentialsSecretRef.name;
    // Either key may be the one the Secret holds; the name tells the hydrator a Secret was meant, so one holding
    // neither fails by name instead of reading the container anonymously.
    const env = [
      secretEnv("AZURE_STORAGE_SAS_TOKEN", secret, "AZURE_STORAGE_SAS_TOKEN", true),
      secretEnv("AZURE_STORAGE_KEY", secret, "AZURE_STORAGE_KEY", true),
      { name: "AZURE_STORAGE_CREDENTIALS_SECRET", value: secret },
    ];
    return { ok: true, value: { ...plan, env, secrets: [secret] } };
  },
  fetcher: {
    schemes: ["azure"],
    usage: ["--source azure://account/container/prefix  (AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_KEY; --endpoint, --azure-versions)"],
    // The Azure SDK is tens of MiB of RSS: only an azure:// Job loads it.
    async create(uri, req) {
      const { createAzureSource } = await import("../hydrator/sources/azure.ts");
      const s = createAzureSource({
        uri,
        env: req.env,
        ...(req.endpoint ? { endpoint: req.endpoint } : {}),
        ...(req.azureVersions ? { pinnedVersions: req.azureVersions } : {}),
        ...(req.refusedAddresses ? { refusedAddresses: req.refusedAddresses } : {}),
      });
      return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
    },
  },
};
