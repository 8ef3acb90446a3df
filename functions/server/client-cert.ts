// Checking the client certificate Crossplane presents, ourselves.
//
// Crossplane (v2.2, `crossplane core init`) issues its client certificate
// with the same subject as the CA that signs it (O=Crossplane,
// CN=Crossplane) and no authority key identifier. Go's verifier accepts it;
// OpenSSL, which Node's TLS uses, takes a certificate whose issuer equals
// its subject for self-signed and refuses it ("self-signed certificate",
// error 18), so with OpenSSL doing the check every call from a real
// Crossplane was dropped at the handshake (found on the live control plane).
// The TLS layer therefore asks for a client certificate without judging it,
// and each call is checked here before anything of it is read: signed by a
// CA in ca.crt, within its validity, not a CA itself, and usable for client
// authentication.
import { X509Certificate } from "node:crypto";

export type Verdict = { ok: true; subject: string } | { ok: false; reason: string };

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const ANY_EKU = "2.5.29.37.0";

/** Every certificate in a PEM bundle (ca.crt may hold more than one, e.g. during a CA rotation). */
export function parseBundle(pem: Buffer | string): X509Certificate[] {
  const blocks = pem.toString().match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

export function verifyClientCertificate(der: Buffer | undefined, cas: readonly X509Certificate[], now: Date = new Date()): Verdict {
  if (der === undefined || der.length === 0) return { ok: false, reason: "no client certificate" };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, reason: "an unreadable client certificate" };
  }
  const subject = cert.subject.replace(/\n/g, ", ");
  if (cert.ca) return { ok: false, reason: `the client certificate (${subject}) is a CA certificate` };
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo))
    return { ok: false, reason: `the client certificate (${subject}) is not valid now (${cert.validFrom} to ${cert.validTo})` };
  const usages = cert.keyUsage;
  if (usages !== undefined && !usages.includes(CLIENT_AUTH) && !usages.includes(ANY_EKU))
    return { ok: false, reason: `the client certificate (${subject}) is not for client authentication` };
  const issuer = cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  if (issuer === undefined) return { ok: false, reason: `the client certificate (${subject}) is not signed by a CA in ca.crt` };
  if (now > new Date(issuer.validTo)) return { ok: false, reason: `the CA that signed the client certificate expired at ${issuer.validTo}` };
  return { ok: true, subject };
}
