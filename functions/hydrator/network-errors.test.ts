// Every network failure code the hydrator meets, in words with the fix, and
// whether a retry can help: connection failures yes, TLS trust and refused
// address classes never (asking again meets the same certificate or address).
import { describe, expect, it } from "vitest";
import { AddressRefused } from "./address-guard.ts";
import { networkFailure } from "./network-errors.ts";

/** What fetch throws: a TypeError("fetch failed") whose cause is the socket's error. */
const fetchFailed = (code: string, message = `connect ${code}`, extra: Record<string, unknown> = {}): Error =>
  new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code, ...extra }) });

describe("networkFailure", () => {
  const url = "https://models.example:8443/m.bin";
  const cases: [reason: string, err: unknown, retryable: boolean, text: string][] = [
    [
      "nothing listens on the port: retried, names host and port",
      fetchFailed("ECONNREFUSED"),
      true,
      "connection refused by models.example:8443 (ECONNREFUSED): nothing is listening there; check the port in the URL and that the server is running",
    ],
    [
      "a name that does not resolve: retried (cluster DNS hiccups), says check the name",
      fetchFailed("ENOTFOUND", "getaddrinfo ENOTFOUND models.example"),
      true,
      "the host name models.example does not resolve (ENOTFOUND); check it for a typo, and this machine's DNS or proxy settings",
    ],
    [
      "DNS did not answer",
      fetchFailed("EAI_AGAIN"),
      true,
      "the host name models.example could not be resolved now (EAI_AGAIN: no answer from DNS); check this machine's network and DNS",
    ],
    [
      "a connect timeout",
      fetchFailed("UND_ERR_CONNECT_TIMEOUT"),
      true,
      "models.example:8443 did not answer in time (UND_ERR_CONNECT_TIMEOUT); check the address and port, and any firewall or proxy in between",
    ],
    ["a reset", fetchFailed("ECONNRESET"), true, "the connection to models.example:8443 was closed unexpectedly (ECONNRESET)"],
    [
      "a self-signed certificate: permanent, says how to trust a CA",
      fetchFailed("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
      false,
      "models.example:8443 presents a self-signed TLS certificate (DEPTH_ZERO_SELF_SIGNED_CERT); trust the CA that signed it with --ca-file <ca.pem> (or the environment: NODE_EXTRA_CA_CERTS=<ca.pem>, or NODE_USE_SYSTEM_CA=1 for the system's store)",
    ],
    [
      "a private CA: permanent, same fix",
      fetchFailed("UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
      false,
      "models.example:8443 presents a TLS certificate signed by a CA this machine does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE); trust the CA that signed it with --ca-file <ca.pem> (or the environment: NODE_EXTRA_CA_CERTS=<ca.pem>, or NODE_USE_SYSTEM_CA=1 for the system's store)",
    ],
    [
      "a certificate for another name",
      fetchFailed("ERR_TLS_CERT_ALTNAME_INVALID"),
      false,
      "the TLS certificate of models.example:8443 is not valid for the name models.example (ERR_TLS_CERT_ALTNAME_INVALID); use a host name the certificate names",
    ],
    [
      "an expired certificate",
      fetchFailed("CERT_HAS_EXPIRED"),
      false,
      "the TLS certificate of models.example:8443 is not valid now (CERT_HAS_EXPIRED); the server must renew it, or this machine's clock is wrong",
    ],
    [
      "https:// to a plain HTTP port",
      fetchFailed("ERR_SSL_WRONG_VERSION_NUMBER"),
      false,
      "models.example:8443 does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER); if it is a plain HTTP server, use an http:// URL",
    ],
    [
      "another TLS failure stays permanent",
      fetchFailed("ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE", "handshake failure"),
      false,
      "TLS with models.example:8443 failed (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: handshake failure)",
    ],
    [
      "a refused address class stays permanent, in the guard's words",
      new TypeError("fetch failed", { cause: new AddressRefused("the hydrator does not connect to 169.254.169.254") }),
      false,
      "the hydrator does not connect to 169.254.169.254",
    ],
    ["an unknown code is retried and shown as is", fetchFailed("EWEIRD", "weird"), true, "EWEIRD: weird"],
    [
      "Happy Eyeballs: the code sits in an AggregateError's members",
      new TypeError("fetch failed", { cause: new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:8443"), { code: "ECONNREFUSED" })]) }),
      true,
      "connection refused by models.example:8443 (ECONNREFUSED): nothing is listening there; check the port in the URL and that the server is running",
    ],
  ];
  it.each(cases)("%s", (_reason, err, retryable, text) => {
    expect(networkFailure(err, url)).toEqual({ code: expect.any(String) as string, retryable, text });
  });

  it("without a URL, names where the socket was going (the AWS SDK's errors)", () => {
    const err = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9000"), { code: "ECONNREFUSED", address: "127.0.0.1", port: 9000 });
    expect(networkFailure(err)?.text).toBe(
      "connection refused by 127.0.0.1:9000 (ECONNREFUSED): nothing is listening there; check the port in the URL and that the server is running",
    );
  });

  it("a port fetch blocks (no code, cause 'bad port') is permanent, not retried eight times", () => {
    expect(networkFailure(new TypeError("fetch failed", { cause: new Error("bad port") }), "https://127.0.0.1:1/x")).toEqual({
      code: "BAD_PORT",
      retryable: false,
      text: "127.0.0.1:1 is on a port fetch never connects to (a blocked port, as in browsers); serve it on another port",
    });
  });

  it("is undefined for an error without a code (not a network failure it can read)", () => {
    expect(networkFailure(new Error("boom"), url)).toBeUndefined();
  });
});
