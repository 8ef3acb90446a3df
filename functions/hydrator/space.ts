// The free-space check before any byte is fetched: a download that fills the
// volume at 95% wastes an hour and can break whatever else shares it.
import { statfs } from "node:fs/promises";

/** Head-room kept beyond the artifact: staging state files, the manifest, directory blocks. */
export const SPACE_MARGIN = 16 * 1024 * 1024;

export type StatfsFn = (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

export async function checkFreeSpace(
  dir: string,
  neededBytes: number,
  fn: StatfsFn = statfs,
): Promise<{ ok: true; free: number } | { ok: false; error: string; free: number }> {
  const s = await fn(dir);
  const free = Number(s.bavail) * Number(s.bsize);
  if (neededBytes + SPACE_MARGIN > free) {
    return {
      ok: false,
      free,
      error: `not enough free space in ${dir}: ${fmtBytes(neededBytes)} still to fetch (+${fmtBytes(SPACE_MARGIN)} margin), ${fmtBytes(free)} available`,
    };
  }
  return { ok: true, free };
}

export function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
