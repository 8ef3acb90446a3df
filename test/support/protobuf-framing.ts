// Protobuf framing by hand, for tests and benchmarks that build requests a
// well-behaved encoder would not (deeper than proto-loader allows, or too
// large to hold as objects).

export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field. */
export const field = (n: number, bytes: Buffer): Buffer => Buffer.concat([varint((n << 3) | 2), varint(bytes.length), bytes]);
