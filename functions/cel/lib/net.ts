// Kubernetes' IP and CIDR libraries (k8s.io/apiserver/pkg/cel/library/ip.go, cidr.go): values parsed
// exactly as Go's net/netip parses them (same grammar, same error texts), then Kubernetes' extra
// rules: no zones, no IPv4-mapped IPv6 addresses. Canonical text is netip's (RFC 5952 for IPv6).

import { evalErrorFrom } from "./eval-error.ts";

class ParseError extends Error {}

const quote = (s: string): string => JSON.stringify(s);

function addrError(input: string, msg: string, at?: string): ParseError {
  return new ParseError(`ParseAddr(${quote(input)}): ${msg}${at ? ` (at ${quote(at)})` : ""}`);
}

/** netip's parseIPv4Fields over input[off:end]. */
function ipv4Fields(input: string, off: number, end: number): number[] {
  const s = input.slice(off, end);
  const fields: number[] = [];
  let val = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0) throw addrError(input, "IPv4 field has octet with leading zero");
      val = val * 10 + (c - 48);
      digits++;
      if (val > 255) throw addrError(input, "IPv4 field has value >255");
    } else if (s[i] === ".") {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".") throw addrError(input, "IPv4 field must have at least one digit", s.slice(i));
      if (fields.length === 3) throw addrError(input, "IPv4 address too long");
      fields.push(val);
      val = 0;
      digits = 0;
    } else throw addrError(input, "unexpected character", s.slice(i));
  }
  if (fields.length < 3) throw addrError(input, "IPv4 address too short");
  fields.push(val);
  return fields;
}

const hexValue = (c: string): number => {
  const x = c.charCodeAt(0);
  if (x >= 48 && x <= 57) return x - 48;
  if (x >= 97 && x <= 102) return x - 87;
  if (x >= 65 && x <= 70) return x - 55;
  return -1;
};

/** netip's parseIPv6: 16 bytes, and the zone ("" when none). */
function ipv6(input: string): { bytes: number[]; zone: string } {
  let s = input;
  let zone = "";
  const pct = s.indexOf("%");
  if (pct >= 0) {
    zone = s.slice(pct + 1);
    s = s.slice(0, pct);
    if (zone === "") throw addrError(input, "zone must be a non-empty string");
  }
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ":" && s[1] === ":") {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return { bytes: ip, zone };
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const h = hexValue(s[off] ?? "");
      if (h < 0) break;
      acc = acc * 16 + h;
      if (off > 3) throw addrError(input, "each group must have 4 or less digits", s);
      if (acc > 0xffff) throw addrError(input, "IPv6 field has value >=2^16", s);
    }
    if (off === 0) throw addrError(input, "each colon-separated field must have at least one digit", s);
    if (off < s.length && s[off] === ".") {
      if (ellipsis < 0 && i !== 12) throw addrError(input, "embedded IPv4 address must replace the final 2 fields of the address", s);
      if (i + 4 > 16) throw addrError(input, "too many hex fields to fit an embedded IPv4 at the end of the address", s);
      const end = input.length - (zone.length > 0 ? zone.length + 1 : 0);
      ipv4Fields(input, end - s.length, end).forEach((b, k) => (ip[i + k] = b));
      s = "";
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ":") throw addrError(input, "unexpected character, want colon", s);
    if (s.length === 1) throw addrError(input, "colon must be followed by more characters", s);
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) throw addrError(input, "multiple :: in address", s);
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) throw addrError(input, "trailing garbage after address", s);
  if (i < 16) {
    if (ellipsis < 0) throw addrError(input, "address string too short");
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j] ?? 0;
    for (let j = ellipsis; j < ellipsis + n; j++) ip[j] = 0;
  } else if (ellipsis >= 0) throw addrError(input, "the :: must expand to at least one field of zeros", s);
  return { bytes: ip, zone };
}

/** An IP address: 4 or 16 bytes. The CEL type `net.IP`. */
export class CelIP {
  readonly bytes: readonly number[];
  constructor(bytes: readonly number[]) {
    this.bytes = bytes;
  }
  get family(): 4 | 6 {
    return this.bytes.length === 4 ? 4 : 6;
  }
  /** netip's String(): dotted quad, or RFC 5952 (lowercase, the longest run of zero groups as ::). */
  toString(): string {
    if (this.family === 4) return this.bytes.join(".");
    const groups = Array.from({ length: 8 }, (_, k) => ((this.bytes[2 * k] ?? 0) << 8) | (this.bytes[2 * k + 1] ?? 0));
    let best = -1;
    let bestLen = 0;
    for (let k = 0; k < 8;) {
      if (groups[k] !== 0) {
        k++;
        continue;
      }
      let e = k;
      while (e < 8 && groups[e] === 0) e++;
      if (e - k > bestLen && e - k >= 2) {
        best = k;
        bestLen = e - k;
      }
      k = e;
    }
    if (best < 0) return groups.map((g) => g.toString(16)).join(":");
    const left = groups
      .slice(0, best)
      .map((g) => g.toString(16))
      .join(":");
    const right = groups
      .slice(best + bestLen)
      .map((g) => g.toString(16))
      .join(":");
    return `${left}::${right}`;
  }
  equals(o: CelIP): boolean {
    return this.bytes.length === o.bytes.length && this.bytes.every((b, k) => b === o.bytes[k]);
  }
  private startsWith(prefix: readonly number[]): boolean {
    return prefix.every((b, k) => this.bytes[k] === b);
  }
  isUnspecified(): boolean {
    return this.bytes.every((b) => b === 0);
  }
  isLoopback(): boolean {
    return this.family === 4 ? this.bytes[0] === 127 : this.bytes.slice(0, 15).every((b) => b === 0) && this.bytes[15] === 1;
  }
  isMulticast(): boolean {
    return this.family === 4 ? ((this.bytes[0] ?? 0) & 0xf0) === 0xe0 : this.bytes[0] === 0xff;
  }
  isLinkLocalMulticast(): boolean {
    return this.family === 4 ? this.startsWith([224, 0, 0]) : this.startsWith([0xff, 0x02]);
  }
  isLinkLocalUnicast(): boolean {
    return this.family === 4 ? this.startsWith([169, 254]) : this.bytes[0] === 0xfe && ((this.bytes[1] ?? 0) & 0xc0) === 0x80;
  }
  /** netip's IsGlobalUnicast: private and ULA addresses count, as in Go. */
  isGlobalUnicast(): boolean {
    if (this.family === 4 && (this.isUnspecified() || this.bytes.every((b) => b === 255))) return false;
    return !this.isUnspecified() && !this.isLoopback() && !this.isMulticast() && !this.isLinkLocalUnicast();
  }
}

function isFourInSix(b: readonly number[]): boolean {
  return b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** netip.ParseAddr, zone kept. */
function parseAddr(s: string): { ip: CelIP; zone: string } {
  for (const c of s) {
    if (c === ".") return { ip: new CelIP(ipv4Fields(s, 0, s.length)), zone: "" };
    if (c === ":") {
      const r = ipv6(s);
      return { ip: new CelIP(r.bytes), zone: r.zone };
    }
    if (c === "%") throw addrError(s, "missing IPv6 address");
  }
  throw addrError(s, "unable to parse IP");
}

/** Kubernetes' parseIPAddr: netip plus no zone and no IPv4-mapped IPv6. */
function parseIP(raw: string): CelIP {
  let r: { ip: CelIP; zone: string };
  try {
    r = parseAddr(raw);
  } catch (e) {
    if (e instanceof ParseError) throw new ParseError(`IP Address ${quote(raw)} parse error during conversion from string: ${e.message}`);
    throw e;
  }
  if (r.zone !== "") throw new ParseError(`IP address ${quote(raw)} with zone value is not allowed`);
  if (isFourInSix(r.ip.bytes)) throw new ParseError(`IPv4-mapped IPv6 address ${quote(raw)} is not allowed`);
  return r.ip;
}

/** A network prefix: an address (host bits kept, as netip does) and a length. The CEL type `net.CIDR`. */
export class CelCIDR {
  readonly ip: CelIP;
  readonly bits: number;
  constructor(ip: CelIP, bits: number) {
    this.ip = ip;
    this.bits = bits;
  }
  toString(): string {
    return `${this.ip.toString()}/${this.bits}`;
  }
  masked(): CelCIDR {
    const bytes = this.ip.bytes.map((b, k) => {
      const keep = Math.max(0, Math.min(8, this.bits - 8 * k));
      return b & ((0xff << (8 - keep)) & 0xff);
    });
    return new CelCIDR(new CelIP(bytes), this.bits);
  }
  containsIP(ip: CelIP): boolean {
    return ip.family === this.ip.family && new CelCIDR(ip, this.bits).masked().equals(this.masked());
  }
  /** Kubernetes' containsCIDR: same masked network at this length, and a prefix at least as long. */
  containsCIDR(o: CelCIDR): boolean {
    return o.ip.family === this.ip.family && this.masked().equals(new CelCIDR(o.ip, this.bits).masked()) && this.bits <= o.bits;
  }
  equals(o: CelCIDR): boolean {
    return this.bits === o.bits && this.ip.equals(o.ip);
  }
}

/** netip.ParsePrefix plus Kubernetes' refusal of IPv4-mapped addresses. */
function parseCIDRStrict(raw: string): CelCIDR {
  const prefixError = (msg: string) => new ParseError(`network address parse error during conversion from string: netip.ParsePrefix(${quote(raw)}): ${msg}`);
  const slash = raw.lastIndexOf("/");
  if (slash < 0) throw prefixError("no '/'");
  let addr: { ip: CelIP; zone: string };
  try {
    addr = parseAddr(raw.slice(0, slash));
  } catch (e) {
    if (e instanceof ParseError) throw prefixError(e.message);
    throw e;
  }
  if (addr.zone !== "") throw prefixError("IPv6 zones cannot be present in a prefix");
  const bitsText = raw.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(bitsText)) throw prefixError(`bad bits after slash: ${quote(bitsText)}`);
  const bits = Number(bitsText);
  if (bits > (addr.ip.family === 4 ? 32 : 128)) throw prefixError("prefix length out of range");
  if (isFourInSix(addr.ip.bytes))
    throw new ParseError(`network address parse error during conversion from string: IPv4-mapped IPv6 address ${quote(raw)} is not allowed`);
  return new CelCIDR(addr.ip, bits);
}

export const ip = (s: string): CelIP => evalErrorFrom(ParseError, () => parseIP(s));
/** Kubernetes' stringToCIDR wraps parseCIDR's message in its own prefix once more; so does this. */
export const cidr = (s: string): CelCIDR =>
  evalErrorFrom(ParseError, () => {
    try {
      return parseCIDRStrict(s);
    } catch (e) {
      if (e instanceof ParseError) throw new ParseError(`network address parse error during conversion from string: ${e.message}`);
      throw e;
    }
  });

function parses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (e) {
    if (e instanceof ParseError) return false;
    throw e;
  }
}
export const isIP = (s: string): boolean => parses(() => parseIP(s));
export const isCIDR = (s: string): boolean => parses(() => parseCIDRStrict(s));
/** `ip.isCanonical(s)`: s is netip's own spelling of the address; an invalid s is an error. */
export const isCanonicalIP = (s: string): boolean => ip(s).toString() === s;
