// The source layer alone, shared by the hydrator benchmarks: list, then read
// every object whole in parallel and hash it, no disk, in this process. What
// a source costs before the engine's chunking, fsync and publish.
import { createHash } from "node:crypto";
import type { Source } from "../../functions/hydrator/sources/types.ts";

/** Seconds to list and read every object of `src`, checking each digest the source vouches for. */
export async function readSourceWhole(src: Source): Promise<number> {
  const started = process.hrtime.bigint();
  const listing = await src.list(AbortSignal.timeout(600_000));
  await Promise.all(
    listing.objects.map(async (o) => {
      const h = createHash("sha256");
      for await (const chunk of await src.read(o, undefined, AbortSignal.timeout(600_000))) h.update(chunk);
      if (o.expected && h.digest("hex") !== o.expected.hex) throw new Error(`${o.id}: digest mismatch`);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}
