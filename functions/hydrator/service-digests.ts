// Digests a storage service vouches for besides SHA-256 (GCS's crc32c and
// md5Hash, Azure's Content-MD5), fed the same in-order bytes as SHA-256 and
// compared when the object is complete. They catch a corruption between the
// service's disk and ours even when nothing pins the SHA-256 yet (the first
// cluster to fetch a mutable prefix).
import { createHash, type Hash } from "node:crypto";
import { createRequire } from "node:module";
import type { ServiceDigest } from "./sources/types.ts";

interface Running {
  check: ServiceDigest;
  update(b: Uint8Array): void;
  base64(): string;
}

type Crc32c = (input: Uint8Array, initial?: number) => number;
let crc32cImpl: Crc32c | undefined;

/**
 * CRC-32C (Castagnoli) from @node-rs/crc32, a prebuilt native module (SSE4.2/ARMv8 CRC instructions, ~5 GiB/s here;
 * a JavaScript table runs ~90 MiB/s, slower than the network). Loaded only when a source asks for crc32c, so a
 * build without native modules (the single executable) fails that check by name instead of failing to start.
 */
function crc32c(): Crc32c {
  if (crc32cImpl === undefined) {
    try {
      const mod = createRequire(import.meta.url)("@node-rs/crc32") as { crc32c: Crc32c };
      crc32cImpl = mod.crc32c;
    } catch (err) {
      throw new Error(
        `this hydrator build cannot compute crc32c, which the source vouches for (${err instanceof Error ? err.message : String(err)}): run the hydrator image or the npm package`,
        { cause: err },
      );
    }
  }
  return crc32cImpl;
}

function start(check: ServiceDigest): Running {
  if (check.algorithm === "md5") {
    const h: Hash = createHash("md5");
    return { check, update: (b) => h.update(b), base64: () => h.digest("base64") };
  }
  const f = crc32c();
  let crc = 0;
  return {
    check,
    update: (b) => {
      crc = f(b, crc);
    },
    base64: () => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out.toString("base64");
    },
  };
}

/** A digest that did not match: what the service vouches for, what the bytes hash to (both base64, as services print them). */
export interface ServiceDigestMismatch {
  algorithm: ServiceDigest["algorithm"];
  expected: string;
  got: string;
}

export class ServiceDigests {
  readonly #running: Running[];
  constructor(checks: readonly ServiceDigest[] | undefined) {
    this.#running = (checks ?? []).map(start);
  }
  update(b: Uint8Array): void {
    for (const r of this.#running) r.update(b);
  }
  /** The first mismatch, or undefined when every digest matches. Call once, after the last byte. */
  mismatch(): ServiceDigestMismatch | undefined {
    for (const r of this.#running) {
      const got = r.base64();
      if (got !== r.check.base64) return { algorithm: r.check.algorithm, expected: r.check.base64, got };
    }
    return undefined;
  }
}
