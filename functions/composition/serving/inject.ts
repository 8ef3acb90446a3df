// Injecting caches into a workload: one read-only PVC volume per cache in
// every pod site, mounted read-only at the cache's mountPath into the
// containers that ask. Nothing else in the manifest changes; a mount that
// would shadow one the workload already has is refused, never overwritten.
import type { JsonObject, JsonValue } from "../../sdk/types.ts";
import { isObject, str } from "../../common/json.ts";
import { label } from "../replica/names.ts";
import type { PodSite } from "./workloads.ts";

export interface CacheMount {
  /** `namespace/name` of the ModelCache. */
  cache: string;
  volumeName: string;
  claimName: string;
  mountPath: string;
}

export type ContainerChoice = { mode: "AllContainers" } | { mode: "AnnotatedContainers"; names: string[] };

/** The pod volume's name for a cache: `mc-<name>` when that is a DNS label, else a bounded one with a digest of the reference. */
export function volumeName(cacheRef: string): string {
  const name = cacheRef.slice(cacheRef.indexOf("/") + 1);
  const plain = `mc-${name}`;
  return plain.length <= 63 && !plain.includes(".") ? plain : label(plain, "v", cacheRef);
}

function arrayOf(holder: JsonObject, key: string): JsonValue[] {
  const v = holder[key];
  return Array.isArray(v) ? v : [];
}

/** Which containers of the sites mount; an error names what the annotation asked for that is not there. */
function chosen(sites: PodSite[], choice: ContainerChoice): { ok: true; containers: Set<JsonObject> } | { ok: false; message: string } {
  const all = sites.flatMap((s) => s.containers);
  if (choice.mode === "AllContainers") return { ok: true, containers: new Set(all.map((c) => c.container)) };
  if (choice.names.length === 0)
    return {
      ok: false,
      message: "input.serving.mountInto is AnnotatedContainers but the workload has no modelcache.dev/containers annotation naming the containers that mount",
    };
  const missing = choice.names.filter((n) => !all.some((c) => c.name === n));
  if (missing.length > 0) return { ok: false, message: `modelcache.dev/containers names ${missing.join(", ")}, which no pod template of the workload has` };
  return { ok: true, containers: new Set(all.filter((c) => choice.names.includes(c.name)).map((c) => c.container)) };
}

/**
 * Adds the mounts to `sites` in place (they belong to a copy of the
 * manifest). Returns the conflicts found; on any, nothing should be composed
 * from the copy.
 */
export function injectMounts(sites: PodSite[], mounts: CacheMount[], choice: ContainerChoice): string[] {
  if (sites.length === 0) return ["the workload has no pod template to mount into"];
  const pick = chosen(sites, choice);
  if (!pick.ok) return [pick.message];
  const ours = new Set(mounts.map((m) => m.volumeName));
  const conflicts: string[] = [];
  for (const site of sites) {
    // Earlier steps compose afresh on every call, so a volume of our name is theirs: refuse rather than replace it.
    const volumes = [...arrayOf(site.holder, "volumes")];
    for (const v of volumes)
      if (isObject(v) && ours.has(str(v["name"]) ?? ""))
        conflicts.push(`${site.path}.volumes: the workload already has a volume named ${str(v["name"]) ?? ""}, the name the cache's volume takes`);
    // Mount only where some container mounts: a pod site no chosen container lives in gets no volume.
    const here = site.containers.filter((c) => pick.containers.has(c.container));
    if (here.length === 0) continue;
    for (const m of mounts) volumes.push({ name: m.volumeName, persistentVolumeClaim: { claimName: m.claimName, readOnly: true } });
    site.holder["volumes"] = volumes;
    for (const { name, container } of here) {
      const existing = [...arrayOf(container, "volumeMounts")];
      for (const m of mounts) {
        const clash = existing.find((vm) => isObject(vm) && str(vm["mountPath"])?.replace(/\/+$/, "") === m.mountPath.replace(/\/+$/, ""));
        if (clash !== undefined && isObject(clash)) {
          conflicts.push(
            `${site.path}: container ${name} already mounts volume ${str(clash["name"]) ?? "?"} at ${m.mountPath}, where ModelCache ${m.cache} mounts; remove that mount or change the cache's spec.mountPath`,
          );
          continue;
        }
        existing.push({ name: m.volumeName, mountPath: m.mountPath, readOnly: true });
      }
      container["volumeMounts"] = existing;
    }
  }
  return conflicts;
}

/** A deep copy of a JSON value: injection never touches what an earlier step composed. */
export function clone<T extends JsonValue>(v: T): T {
  return structuredClone(v);
}
