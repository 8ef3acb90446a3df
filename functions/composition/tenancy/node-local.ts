// The tenancy policy for node-local copies (replication: AllMatchingNodes):
// only the platform names the local storage classes, the disk per node and
// the nodes a tenant may reach (input.tenancy.nodeLocal); a cache asking for
// more is refused, naming the field and the knob. Both levels apply it.
import type { NodeLocal, NodeLocalPolicy } from "../../api/node-local.ts";
import { Quantity } from "../../cel/quantity.ts";
import type { Issue } from "./issues.ts";

export interface NodeLocalCheck {
  refused: Issue[];
  /** The class every node's claim uses: the cache's, else the platform's first. Undefined when refused. */
  storageClassName: string | undefined;
}

function quantity(q: string): Quantity | undefined {
  try {
    return Quantity.parse(q);
  } catch {
    return undefined;
  }
}

/** `nodeLocal` undefined (replication AllMatchingClusters): nothing to check. `root` names the spec in messages. */
export function checkNodeLocal(nodeLocal: NodeLocal | undefined, policy: NodeLocalPolicy, root: string): NodeLocalCheck {
  if (nodeLocal === undefined) return { refused: [], storageClassName: undefined };
  const refused: Issue[] = [];
  const classes = policy.storageClassNames;
  const at = `${root}.nodeLocal`;
  let storageClassName: string | undefined;
  if (classes.length === 0)
    refused.push({
      field: `${root}.replication`,
      rule: "tenancy.nodeLocal.storageClassNames",
      message: "AllMatchingNodes is not offered here: the platform lists no node-local storage class",
    });
  else if (nodeLocal.storageClassName !== undefined && !classes.includes(nodeLocal.storageClassName))
    refused.push({
      field: `${at}.storageClassName`,
      rule: "tenancy.nodeLocal.storageClassNames",
      message: `${nodeLocal.storageClassName} is not a node-local class the platform allows (allowed: ${classes.join(", ")})`,
    });
  else storageClassName = nodeLocal.storageClassName ?? classes[0];
  // N nodes pulling from the internet is the platform's call (egress, credentials on every node, rate limits).
  if (nodeLocal.seed === "Source" && policy.seedFromSource !== "Allow")
    refused.push({
      field: `${at}.seed`,
      rule: "tenancy.nodeLocal.seedFromSource",
      message: "Source is not offered here: the platform does not let nodes hydrate from the source (each node copies the cluster's shared copy)",
    });
  const size = quantity(nodeLocal.size);
  const max = quantity(policy.maxSize);
  if (size === undefined) refused.push({ field: `${at}.size`, rule: "tenancy.nodeLocal.maxSize", message: `${nodeLocal.size} is not a quantity` });
  else if (max !== undefined && size.compareTo(max) > 0)
    refused.push({
      field: `${at}.size`,
      rule: "tenancy.nodeLocal.maxSize",
      message: `${nodeLocal.size} is more than the ${policy.maxSize} a cache may claim per node`,
    });
  return { refused, storageClassName: refused.length === 0 ? storageClassName : undefined };
}
