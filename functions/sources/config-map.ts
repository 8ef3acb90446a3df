// configMap: the files of a ConfigMap that already exists in the cache's
// namespace on each cluster. It can change under us: pinned to the file set
// the first cluster verified.
import { z } from "zod";
import { ObjectName } from "../api/k8s.ts";
import { argsOnly, sourceMount, SOURCE_MOUNT, type SourceKind } from "./kind.ts";

export const ConfigMapSource = z.object({ name: ObjectName }).strict();

export const configMap: SourceKind<typeof ConfigMapSource> = {
  key: "configMap",
  schema: ConfigMapSource,
  identity: (c) => ({ configMap: { name: c.name } }),
  line: (c) => `configmap/${c.name}`,
  immutableRevision: () => undefined,
  revisionComparable: false,
  // Nothing is fetched over the network.
  fetches: () => [],
  plan: (c) => ({ ok: true, value: { ...argsOnly({ source: `file://${SOURCE_MOUNT}` }), ...sourceMount({ configMap: { name: c.name } }) } }),
};
