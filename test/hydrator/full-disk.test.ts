// A full disk, for real: the hydrator writes into a small tmpfs mounted for
// the test (in a private mount namespace with `unshare -rm`, so nothing leaks
// onto the machine; as root without unshare, a plain mount unmounted on
// exit). The file comes from real nginx. Two cases:
//   (a) the artifact is larger than the volume: the free-space check refuses
//       it before any byte is fetched (nginx logs no GET), exit 3, saying
//       what is needed and what is free;
//   (b) the volume fills up during the download (a filler written while a
//       throttled download runs): exit 3 with a message naming the full
//       volume and the file, no artifact published; once space is freed a
//       re-run completes from the staging area.
// When no tmpfs can be mounted either way, the tests fail with the reason:
// a skipped full-disk test would hide the one fault it exists for.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HydrationReport } from "../../functions/api/hydration-report.ts";
import { CLI } from "../support/hydrator.ts";
import { startNginx, type Nginx } from "../support/nginx.ts";

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const large = randomBytes(10 * MiB); // (a): more than the 8 MiB volume
const slow = randomBytes(12 * MiB); // (b): fits the 40 MiB volume with the check's 16 MiB margin, until it is filled

let nginx: Nginx;
let work: string;
/** How the test gets a private small file system: a shell command prefix that runs a script with a tmpfs mountable. */
let runner: (script: string, env: Record<string, string>) => { status: number | null; out: string };

/** Runs `script` as root in a private mount namespace (unshare), or as real root with a trap that unmounts. */
function pickRunner(probeDir: string): typeof runner {
  const probe = 'mount -t tmpfs -o size=1m tmpfs "$D" && test "$(df -k --output=size "$D" | tail -1 | tr -d " ")" = 1024';
  const viaUnshare = spawnSync("unshare", ["-rm", "sh", "-c", probe], { env: { ...process.env, D: probeDir }, encoding: "utf8" });
  if (viaUnshare.status === 0) {
    return (script, env) => {
      const r = spawnSync("unshare", ["-rm", "sh", "-c", script], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 240_000 });
      return { status: r.status, out: `${r.stdout}${r.stderr}${r.error ? r.error.message : ""}` };
    };
  }
  const unshareWhy = `${viaUnshare.stderr}${viaUnshare.error?.message ?? ""}`.trim() || `exit ${viaUnshare.status}`;
  if (process.getuid?.() === 0) {
    const direct = spawnSync("sh", ["-c", `${probe}; rc=$?; umount "$D"; exit $rc`], { env: { ...process.env, D: probeDir }, encoding: "utf8" });
    if (direct.status === 0) {
      return (script, env) => {
        const r = spawnSync("sh", ["-c", `trap 'umount "$D" 2>/dev/null' EXIT\n${script}`], {
          env: { ...process.env, ...env },
          encoding: "utf8",
          timeout: 240_000,
        });
        return { status: r.status, out: `${r.stdout}${r.stderr}${r.error ? r.error.message : ""}` };
      };
    }
    throw new Error(`cannot mount a small tmpfs for the full-disk tests: unshare -rm failed (${unshareWhy}); mount as root failed (${direct.stderr.trim()})`);
  }
  throw new Error(`cannot mount a small tmpfs for the full-disk tests: unshare -rm failed (${unshareWhy}) and this is not root (mount -t tmpfs needs either)`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fmc-fulldisk-"));
  await mkdir(join(work, "probe"));
  runner = pickRunner(join(work, "probe"));
  const root = join(work, "www");
  await mkdir(root);
  await writeFile(join(root, "large.bin"), large);
  await writeFile(join(root, "slow.bin"), slow);
  // Each 256 KiB range takes ~1/3 s (nginx sends 192 KiB of a request at once, then paces): 12 MiB over two
  // connections takes ~8 s, time enough to fill the volume mid-way.
  nginx = await startNginx(root, { slowRate: "192k" });
});

afterAll(async () => {
  await nginx?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let n = 0;
/** A mount point and an output directory (outside the tmpfs, so the test reads what the script saw). */
async function dirs(): Promise<{ D: string; OUT: string }> {
  const base = join(work, `case${++n}`);
  await mkdir(join(base, "mnt"), { recursive: true });
  await mkdir(join(base, "out"));
  return { D: join(base, "mnt"), OUT: join(base, "out") };
}

const lastReport = (stdout: string): HydrationReport => HydrationReport.parse(JSON.parse(stdout.trim().split("\n").at(-1) ?? "null"));

describe("a full disk (a real tmpfs)", () => {
  it("(a) refuses an artifact larger than the volume before fetching a byte: exit 3, needed and free in the message", async () => {
    const { D, OUT } = await dirs();
    const from = (await nginx.requests()).length;
    const script = `
set -u
mount -t tmpfs -o size=8m tmpfs "$D" || exit 90
"$NODE" "$CLI" hydrate --source "$URL" --sha256 "$SHA" --dest "$D/model" --progress none > "$OUT/stdout" 2> "$OUT/stderr"
echo $? > "$OUT/code"
# The run created --dest and, failing before any byte, removes it again: nothing left behind.
{ [ ! -e "$D/model" ] || find "$D/model" -type f -printf '%P\\n'; } > "$OUT/files"
`;
    const r = runner(script, { D, OUT, NODE: process.execPath, CLI, URL: `${nginx.url}/large.bin`, SHA: sha(large) });
    expect(r.status, r.out).toBe(0);
    const stdout = await readFile(join(OUT, "stdout"), "utf8");
    expect((await readFile(join(OUT, "code"), "utf8")).trim(), stdout + (await readFile(join(OUT, "stderr"), "utf8"))).toBe("3");
    const report = lastReport(stdout);
    expect(report.phase).toBe("Failed");
    expect(report.permanent, "the volume's failure, not the source's").toBe("Destination");
    const m = /not enough free space in \S+: ([\d.]+) MiB still to fetch \(\+16\.0 MiB margin\), ([\d.]+) MiB available/.exec(report.message ?? "");
    expect(m, report.message).not.toBeNull();
    expect(Number(m?.[1])).toBe(10);
    expect(Number(m?.[2])).toBeGreaterThan(7);
    expect(Number(m?.[2])).toBeLessThanOrEqual(8);
    // The listing's HEAD only: no byte of the file was asked for.
    const asked = (await nginx.requests()).slice(from).filter((l) => l.includes("/large.bin"));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((l) => l.startsWith("HEAD "))).toBe(true);
    expect((await readFile(join(OUT, "files"), "utf8")).trim()).toBe("");
  });

  it("(b) ENOSPC mid-download: exit 3 naming the full volume and the file, no artifact published; after freeing space a re-run completes", async () => {
    const { D, OUT } = await dirs();
    const script = `
set -u
mount -t tmpfs -o size=40m tmpfs "$D" || exit 90
args="--source $URL --sha256 $SHA --dest $D/model --chunk-size 256Ki --concurrency 2 --progress json"
"$NODE" "$CLI" hydrate $args > "$OUT/stdout1" 2> "$OUT/stderr1" &
pid=$!
# Fill the volume once the download is under way (1 MiB of it on the tmpfs).
i=0
while [ "$(du -sk "$D" | cut -f1)" -lt 1024 ] && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.1; done
du -sk "$D" | cut -f1 > "$OUT/used-at-fill"
dd if=/dev/zero of="$D/filler" bs=1M 2>/dev/null
df -k --output=avail "$D" | tail -1 | tr -d ' ' > "$OUT/avail-after-fill"
wait $pid
echo $? > "$OUT/code1"
find "$D/model" -mindepth 1 -printf '%y %P\\n' | sort > "$OUT/tree1"
rm -f "$D/filler"
"$NODE" "$CLI" hydrate $args > "$OUT/stdout2" 2> "$OUT/stderr2"
echo $? > "$OUT/code2"
(cd "$D/model" && sha256sum --strict -c SHA256SUMS) > "$OUT/sums2" 2>&1
`;
    const from = (await nginx.requests()).length;
    const r = runner(script, { D, OUT, NODE: process.execPath, CLI, URL: `${nginx.url}/slow/slow.bin`, SHA: sha(slow) });
    expect(r.status, r.out).toBe(0);
    const read = (f: string): Promise<string> => readFile(join(OUT, f), "utf8");
    // The filler really took the volume while the download was running.
    expect(Number((await read("used-at-fill")).trim())).toBeLessThan(12 * 1024);
    // Full: less left than one 256 KiB chunk (the hydrator may free a page or two of its own between dd and df).
    expect(Number((await read("avail-after-fill")).trim())).toBeLessThan(256);

    const stdout1 = await read("stdout1");
    expect((await read("code1")).trim(), stdout1 + (await read("stderr1"))).toBe("3");
    const report = lastReport(stdout1);
    expect(report.phase).toBe("Failed");
    expect(report.permanent, "the volume's failure, not the source's").toBe("Destination");
    expect(report.message).toMatch(/the destination volume is full while writing slow\.bin \(ENOSPC/);
    // Nothing published: no file at its path, no SHA256SUMS, no manifest; only the hidden staging area.
    const tree = (await read("tree1")).trim().split("\n");
    expect(tree.filter((l) => !/^[df] \.model-cache(\/staging(\/.*)?)?$/.test(l))).toEqual([]);

    // Space back: the same command finishes from what the staging area holds.
    expect((await read("code2")).trim(), (await read("stdout2")) + (await read("stderr2"))).toBe("0");
    expect((await read("sums2")).trim()).toBe("slow.bin: OK");
    // ...without fetching again what was already durable: over both runs, each 256 KiB chunk once,
    // plus at most the two chunks in flight when the volume filled (concurrency 2).
    const gets = (await nginx.requests()).slice(from).filter((l) => l.startsWith("GET /slow/slow.bin "));
    const chunks = (12 * MiB) / (256 * 1024);
    const firstRun = Number((await read("used-at-fill")).trim()) / 256;
    expect(firstRun).toBeGreaterThanOrEqual(4);
    expect(gets.length).toBeLessThanOrEqual(chunks + 2);
  });
});
