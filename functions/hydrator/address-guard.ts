// --refuse-addresses: the hydrator never connects to an address in a refused
// class (functions/api/address-classes.ts), whatever led there: a URL written
// as an IP literal, a name that resolves to one (a wildcard DNS service such
// as 169.254.169.254.nip.io), or a redirect. The function refuses specs that
// name such hosts; only here, at connect time on the cluster, can a name be
// checked against what it resolves to.
//
// fetch (http(s)://, hf://, oci://) goes through undici's global dispatcher,
// replaced here by one whose connector checks the host and resolves names
// through a guarded lookup; the AWS SDK (s3://) gets agents with the same
// lookup. The Kubernetes API client (k8s-configmap.ts) uses neither: the
// report must reach the API server whatever the platform refuses.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import { Agent, buildConnector, setGlobalDispatcher } from "undici";
import { classOfAddress, describeClass, type AddressClass } from "../api/address-classes.ts";

/** The error a refused connection fails with; permanent: asking again reaches the same address. */
export class AddressRefused extends Error {
  readonly code = "ERR_ADDRESS_REFUSED";
}

function refusal(host: string, address: string, cls: AddressClass): AddressRefused {
  const via = host === address ? address : `${host} (${address})`;
  return new AddressRefused(`the hydrator does not connect to ${via}: ${describeClass(cls)} (${cls}), which the platform refuses (--refuse-addresses)`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** dns.lookup, failing when any address of the name is refused (round-robin DNS must not slip one through). */
export function guardedLookup(refused: readonly AddressClass[]): Lookup {
  return (hostname, options, callback) =>
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const cls = classOfAddress(a.address, refused);
        if (cls !== undefined) return callback(refusal(hostname, a.address, cls), []);
      }
      if (options.all === true) return callback(null, addresses);
      const first = addresses[0];
      if (first === undefined) return callback(Object.assign(new Error(`${hostname}: no address`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
}

/** The refusal for a host written as an IP address (a lookup never sees those), or undefined. */
export function literalRefusal(host: string, refused: readonly AddressClass[]): AddressRefused | undefined {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (isIP(bare) === 0) return undefined;
  const cls = classOfAddress(bare, refused);
  return cls === undefined ? undefined : refusal(bare, bare, cls);
}

/** Every connection fetch makes from now on is checked against `refused`. Called once by the CLI, before any fetch. */
export function guardConnections(refused: readonly AddressClass[]): void {
  if (refused.length === 0) return;
  const connect = buildConnector({ lookup: guardedLookup(refused) });
  setGlobalDispatcher(
    new Agent({
      connect: (opts, callback) => {
        const denied = literalRefusal(opts.hostname, refused);
        if (denied !== undefined) return callback(denied, null);
        return connect(opts, callback);
      },
    }),
  );
}
