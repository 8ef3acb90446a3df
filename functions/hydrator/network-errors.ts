// Network failures (no HTTP answer) in words a person can act on, and whether
// asking again can help. The one place that reads Node's and undici's error
// codes, for every source (http-client.ts for http(s)/hf/oci, s3-errors.ts for
// the AWS SDK): a connection that failed may work next time (a server
// restarting, DNS in a busy cluster), so it is retried; a certificate this
// machine does not trust, or a refused address class (address-guard.ts), will
// be the same next time, so it is permanent and says how to fix it.

export interface NetworkFailure {
  /** The Node/undici/OpenSSL code, e.g. ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT. */
  code: string;
  retryable: boolean;
  /** What happened, and the fix when there is one; names the host, never a credential. */
  text: string;
}

/** How to trust a CA, said once: every certificate failure points here. */
export const TRUST_HINT =
  "trust the CA that signed it with --ca-file <ca.pem> (or the environment: NODE_EXTRA_CA_CERTS=<ca.pem>, or NODE_USE_SYSTEM_CA=1 for the system's store)";

// The server's certificate chains to no CA this process trusts.
const UNTRUSTED = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
/** Any other TLS failure: asking again meets the same certificate or protocol. */
const TLS_RE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|^ERR_TLS|^ERR_SSL|^EPROTO$/;

interface Coded {
  code: string;
  message: string;
  /** Where net and dns say they were going (address, port, hostname), for callers that give no URL. */
  where?: { host: string; hostname: string };
}

/** The first error in `err`'s cause chain (or an AggregateError's members) that carries a string code. */
function findCode(err: unknown): Coded | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    // undici's own wrapper ("fetch failed") has no code; its cause does.
    if (typeof code === "string" && code !== "") {
      const { address, port, hostname } = e as { address?: unknown; port?: unknown; hostname?: unknown };
      const name = typeof hostname === "string" ? hostname : typeof address === "string" ? address : undefined;
      const where = name === undefined ? undefined : { host: typeof port === "number" ? `${name}:${port}` : name, hostname: name };
      return { code, message: e instanceof Error ? e.message : String(code), ...(where ? { where } : {}) };
    }
    queue.push((e as { cause?: unknown }).cause);
    const members = (e as { errors?: unknown }).errors;
    if (Array.isArray(members)) queue.push(...(members as unknown[]));
  }
  return undefined;
}

function endpoint(url: string | undefined): { host: string; hostname: string } {
  try {
    const u = new URL(url ?? "");
    const port = u.port !== "" ? u.port : u.protocol === "https:" ? "443" : u.protocol === "http:" ? "80" : "";
    return { host: port === "" ? u.hostname : `${u.hostname}:${port}`, hostname: u.hostname };
  } catch {
    return { host: "the server", hostname: "the server" };
  }
}

/**
 * `err` (anything fetch, undici, net, tls or the AWS SDK threw) as a network
 * failure, or undefined when it carries no code (not a network failure this
 * module knows how to read). `url` names the host in the words.
 */
export function networkFailure(err: unknown, url?: string): NetworkFailure | undefined {
  const found = findCode(err);
  if (found === undefined) {
    // fetch refuses the ports browsers block (the Fetch standard's "bad port" list), before any connection: permanent.
    const cause = (err as { cause?: { message?: unknown } } | null)?.cause;
    if (cause?.message === "bad port")
      return {
        code: "BAD_PORT",
        retryable: false,
        text: `${endpoint(url).host} is on a port fetch never connects to (a blocked port, as in browsers); serve it on another port`,
      };
    return undefined;
  }
  const { code, message } = found;
  const { host, hostname } = url === undefined && found.where !== undefined ? found.where : endpoint(url);
  const retry = (text: string): NetworkFailure => ({ code, retryable: true, text });
  const permanent = (text: string): NetworkFailure => ({ code, retryable: false, text });
  switch (code) {
    case "ERR_ADDRESS_REFUSED":
      // address-guard.ts words it already; the same name resolves to the same refused address next time.
      return permanent(message);
    case "ECONNREFUSED":
      return retry(`connection refused by ${host} (ECONNREFUSED): nothing is listening there; check the port in the URL and that the server is running`);
    case "ENOTFOUND":
      return retry(`the host name ${hostname} does not resolve (ENOTFOUND); check it for a typo, and this machine's DNS or proxy settings`);
    case "EAI_AGAIN":
      return retry(`the host name ${hostname} could not be resolved now (EAI_AGAIN: no answer from DNS); check this machine's network and DNS`);
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return retry(`${host} did not answer in time (${code}); check the address and port, and any firewall or proxy in between`);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return retry(`no route to ${host} (${code}); check this machine's network`);
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
      return retry(`the connection to ${host} was closed unexpectedly (${code})`);
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return permanent(`the TLS certificate of ${host} is not valid for the name ${hostname} (${code}); use a host name the certificate names`);
    case "ERR_INVALID_URL":
      return permanent(`invalid URL (${code}: ${message})`);
    default:
      break;
  }
  if (UNTRUSTED.has(code)) {
    const what =
      code === "DEPTH_ZERO_SELF_SIGNED_CERT"
        ? "a self-signed TLS certificate"
        : code === "SELF_SIGNED_CERT_IN_CHAIN"
          ? "a TLS certificate from a self-signed CA"
          : "a TLS certificate signed by a CA this machine does not trust";
    return permanent(`${host} presents ${what} (${code}); ${TRUST_HINT}`);
  }
  if (EXPIRED.has(code))
    return permanent(`the TLS certificate of ${host} is not valid now (${code}); the server must renew it, or this machine's clock is wrong`);
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || (code === "EPROTO" && /wrong version number/i.test(message))) {
    return permanent(`${host} does not speak TLS (${code}); if it is a plain HTTP server, use an http:// URL`);
  }
  if (TLS_RE.test(code)) return permanent(`TLS with ${host} failed (${code}: ${message})`);
  return retry(`${code}: ${message}`);
}
