// The Custom storage backend: the contract between the function and a
// third-party substrate (a content-addressed store, a streaming loader, a
// peer-to-peer cache) that holds a cache's bytes on a cluster. The tenant
// names a substrate; the platform says in the Input which kind of resource
// that name means (tenancy.customBackends), so a tenant can never make the
// function compose an arbitrary kind. On each cluster the function composes
// one resource of that kind (the "custom volume", fields below) and reads its
// status back; docs/api.md "The Custom backend contract" is the prose form.
import { z } from "zod";
import { boundedMap, DNS_LABEL, Quantity } from "./k8s.ts";

export const CustomStorage = z
  .object({
    substrate: z
      .string()
      .max(63)
      .regex(DNS_LABEL, "must be a DNS label (lowercase letters, digits, '-')")
      .describe("A substrate the platform allows in the function's Input (tenancy.customBackends[].name)."),
    size: Quantity.optional().describe("Capacity the substrate should provide, for a substrate that asks."),
    parameters: boundedMap(
      z
        .string()
        .min(1)
        .max(63)
        .regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, "must be a key of letters, digits, '-', '_', '.'"),
      z.string().max(1024),
      32,
    )
      .optional()
      .describe("Settings handed to the substrate as they are (spec.parameters of the custom volume)."),
  })
  .strict();
export type CustomStorage = z.infer<typeof CustomStorage>;

/** What the platform allows: a substrate's name and the kind of resource it means (Input, tenancy.customBackends). */
export const CustomBackend = z
  .object({
    name: z.string().max(63).regex(DNS_LABEL, "must be a DNS label").describe("What a ModelCache names in spec.storage.custom.substrate."),
    apiVersion: z
      .string()
      .max(317)
      .regex(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+\/v[0-9]+((alpha|beta)[0-9]+)?$/,
        "must be <group>/<version> of the substrate's own CRD, e.g. volumes.example.com/v1alpha1 (a group with a dot: never a core or built-in kind)",
      ),
    kind: z
      .string()
      .max(63)
      .regex(/^[A-Z][A-Za-z0-9]*$/, "must be a Kind, e.g. ModelVolume"),
    controlPlaneNamespaces: z
      .array(z.string().max(63).regex(DNS_LABEL))
      .max(256)
      .optional()
      .describe("When set, only caches in these control-plane namespaces may use it."),
  })
  .strict();
export type CustomBackend = z.infer<typeof CustomBackend>;

/** Built-in groups a substrate's CRD can never be in: the function would compose Kubernetes' own kinds. */
export const BUILT_IN_GROUP = /(^|\.)k8s\.io$|^(apps|batch|policy|autoscaling|extensions)$/;

/** The condition a substrate sets, and the reason it uses for a failure it will not retry. */
export const CUSTOM_READY = "Ready";
export const CUSTOM_FAILED_REASON = "Failed";

/**
 * What the substrate reports back in its resource's status. Everything is
 * optional on the wire (a substrate reports as it learns); the function
 * decides from what is there (composition/replica/custom.ts).
 */
export const CustomVolumeStatus = z
  .object({
    conditions: z
      .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() }).loose())
      .optional()
      .describe("Ready=True when the claim serves the bytes; Ready=False with reason Failed for a failure the substrate will not retry."),
    claimName: z
      .string()
      .optional()
      .describe("The PersistentVolumeClaim serving pods mount read-only, in the resource's namespace: the spec.claimName it was handed."),
    manifestDigest: z
      .string()
      .optional()
      .describe("The manifest digest of the bytes the claim serves (the hydrator's manifest: sha256 over identity and files)."),
    resolvedRevision: z.string().optional().describe("The immutable revision the substrate resolved the source to."),
    bytesDone: z.number().int().min(0).optional(),
    bytesTotal: z.number().int().min(0).optional(),
    bytesPerSecond: z.number().min(0).optional(),
    etaSeconds: z.number().int().min(0).optional(),
    message: z.string().optional(),
  })
  .loose();
export type CustomVolumeStatus = z.infer<typeof CustomVolumeStatus>;
