// Hostile archives: every way a tar entry can try to write outside the
// destination (or plant something that later redirects a write) is refused,
// and nothing is written outside the destination; the benign cases next to
// them extract to plain regular files. Archives are built with tar-stream, so
// the headers say exactly what each case needs (GNU tar would rewrite some).
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar, { type Headers } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryPath, extractTarStream, HostileArchive } from "./unpack.ts";

interface Entry {
  header: Headers;
  content?: string;
}

async function buildTar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.content !== undefined) pack.entry({ ...e.header, size: Buffer.byteLength(e.content) }, e.content, cb);
      else pack.entry(e.header, cb);
    });
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const b of pack) parts.push(b);
  return Buffer.concat(parts);
}

const file = (name: string, content = `content of ${name}\n`): Entry => ({ header: { name, type: "file" }, content });
const dir = (name: string): Entry => ({ header: { name, type: "directory" } });
const symlink = (name: string, linkname: string): Entry => ({ header: { name, type: "symlink", linkname } });
const hardlink = (name: string, linkname: string): Entry => ({ header: { name, type: "link", linkname } });

interface Refused {
  name: string;
  /** Why the archive must be refused: the attack it stands for. */
  reason: string;
  entries: Entry[];
  error: RegExp;
}

const refused: Refused[] = [
  {
    name: "parent segment",
    reason: "the classic zip-slip: ../ climbs out of the destination",
    entries: [file("../escaped.txt")],
    error: /escapes the destination/,
  },
  {
    name: "parent segment mid-path",
    reason: "a .. after a harmless prefix still climbs out",
    entries: [file("a/../../escaped.txt")],
    error: /escapes the destination/,
  },
  { name: "parent segment behind ./", reason: "a leading ./ must not hide a later ..", entries: [file("./../escaped.txt")], error: /escapes the destination/ },
  {
    name: "absolute path",
    reason: "tar -P archives carry absolute names; extracting them writes anywhere",
    entries: [file("/tmp/escaped.txt")],
    error: /absolute path/,
  },
  {
    name: "long pax name with ..",
    reason: "a name too long for ustar travels in a pax header; the check must see the full name",
    entries: [file(`${"d/".repeat(80)}${"../".repeat(90)}escaped.txt`)],
    error: /escapes the destination/,
  },
  {
    name: "backslash",
    reason: "a Windows separator turns into a path escape in tools that honour it",
    entries: [file("a\\..\\escaped.txt")],
    error: /backslash/,
  },
  { name: "control character", reason: "a newline in a name would forge a SHA256SUMS line", entries: [file("a\nb.txt")], error: /control character/ },
  {
    name: "symlink to an absolute path",
    reason: "a link to /etc/passwd would expose or overwrite a host file",
    entries: [symlink("passwd", "/etc/passwd")],
    error: /leaves the destination/,
  },
  {
    name: "symlink climbing out",
    reason: "a relative link can point above the destination as well",
    entries: [symlink("a/up", "../../outside")],
    error: /leaves the destination/,
  },
  {
    name: "symlink to a directory, then a file through it",
    reason: "a link to a directory (even inside) would redirect later writes; only links to files are kept, as copies",
    entries: [dir("real"), symlink("alias", "real"), file("alias/x.txt")],
    error: /does not name a regular file/,
  },
  {
    name: "symlink to . then a write through it",
    reason: "a link to the destination itself is a directory link too",
    entries: [symlink("here", "."), file("here/x.txt")],
    error: /leaves the destination/,
  },
  {
    name: "dangling symlink",
    reason: "a link to nothing could be filled in later by another writer",
    entries: [symlink("ghost", "missing.txt")],
    error: /does not name a regular file/,
  },
  {
    name: "symlink to a later entry",
    reason: "the target must already be a regular file: a later entry could still be a directory or a link",
    entries: [symlink("early", "late.txt"), file("late.txt")],
    error: /does not name a regular file earlier/,
  },
  {
    name: "hard link to an absolute path",
    reason: "a hard link to a host file would let writes reach it",
    entries: [hardlink("shadow", "/etc/shadow")],
    error: /leaves the destination/,
  },
  {
    name: "hard link climbing out",
    reason: "the link target is archive-relative and must stay inside",
    entries: [hardlink("x", "../outside.txt")],
    error: /leaves the destination/,
  },
  {
    name: "hard link to nothing",
    reason: "a hard link names an entry already extracted or nothing",
    entries: [hardlink("x", "missing.txt")],
    error: /does not name a regular file/,
  },
  {
    name: "character device",
    reason: "a device node in the destination gives access to the device",
    entries: [{ header: { name: "null", type: "character-device", devmajor: 1, devminor: 3 } }],
    error: /not artifact content/,
  },
  {
    name: "block device",
    reason: "as above, for block devices",
    entries: [{ header: { name: "sda", type: "block-device", devmajor: 8, devminor: 0 } }],
    error: /not artifact content/,
  },
  {
    name: "fifo",
    reason: "a FIFO blocks any reader (sha256sum, the engine) forever",
    entries: [{ header: { name: "pipe", type: "fifo" } }],
    error: /not artifact content/,
  },
  {
    name: "file replacing a directory",
    reason: "an entry must not swap a directory for a file behind earlier entries' backs",
    entries: [file("d/inner.txt"), file("d")],
    error: /would replace a directory or link/,
  },
  {
    name: "directory over a file",
    reason: "a directory entry where a file already is: refused as hostile, not a retryable I/O error",
    entries: [file("f"), file("f/inner.txt")],
    error: /not a directory/,
  },
  { name: "directory entry over a file", reason: "the same, with an explicit directory entry", entries: [file("f"), dir("f/")], error: /not a directory/ },
  {
    name: "write through an accepted link",
    reason: "a link to a file is materialized as a copy, so it can never become a path component to write through",
    entries: [file("t.txt"), symlink("l", "t.txt"), file("l/x.txt")],
    error: /not a directory/,
  },
];

interface Accepted {
  name: string;
  reason: string;
  entries: Entry[];
  /** Every regular file expected in the destination, with its content. */
  files: Record<string, string>;
}

const accepted: Accepted[] = [
  {
    name: "nested files with ./ prefixes",
    reason: "tar c . writes ./a/b: the prefix is harmless",
    entries: [dir("./"), dir("./a/"), file("./a/b.txt", "b\n"), file("c.txt", "c\n")],
    files: { "a/b.txt": "b\n", "c.txt": "c\n" },
  },
  {
    name: "symlink to an earlier file in another directory",
    reason: "a model repo links shared files; kept as a copy so the tree is plain files",
    entries: [file("shared/tok.json", "{}\n"), symlink("m/tok.json", "../shared/tok.json")],
    files: { "shared/tok.json": "{}\n", "m/tok.json": "{}\n" },
  },
  {
    name: "symlink with a .. that stays inside",
    reason: "a/../b.txt normalizes to b.txt, still inside",
    entries: [file("b.txt", "B"), symlink("a/l", "../b.txt")],
    files: { "b.txt": "B", "a/l": "B" },
  },
  {
    name: "hard link to an earlier file",
    reason: "hard links name the target from the archive root",
    entries: [file("w/x.bin", "X"), hardlink("y.bin", "./w/x.bin")],
    files: { "w/x.bin": "X", "y.bin": "X" },
  },
  {
    name: "a name with spaces and unicode",
    reason: "unusual but safe names pass unchanged",
    entries: [file("dir with space/ünï côdé.txt", "u")],
    files: { "dir with space/ünï côdé.txt": "u" },
  },
];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fmc-unpack-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let n = 0;
/** A fresh destination inside its own parent, so an escape shows up as an extra entry in the parent. */
async function freshDest(): Promise<{ parent: string; dest: string }> {
  const parent = join(work, `case${++n}`);
  const dest = join(parent, "dest");
  await mkdir(dest, { recursive: true });
  return { parent, dest };
}

/** Every non-directory entry under `root`, relative, with its kind. */
async function tree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(join(root, rel))) {
    const p = rel === "" ? name : `${rel}/${name}`;
    const st = await lstat(join(root, p));
    if (st.isDirectory()) out.push(...(await tree(root, p)));
    else out.push(`${p}${st.isFile() ? "" : " (not a regular file)"}`);
  }
  return out.sort();
}

/** The archive with the first header's typeflag replaced (and its checksum fixed): a type tar-stream cannot write. */
function withTypeflag(archive: Buffer, flag: string): Buffer {
  const out = Buffer.from(archive);
  out[156] = flag.charCodeAt(0);
  out.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i] as number;
  out.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return out;
}

describe("extractTarStream refuses hostile entries", () => {
  it.each(refused)("$name: $reason", async ({ entries, error }) => {
    const { parent, dest } = await freshDest();
    const archive = await buildTar(entries);
    const err = await extractTarStream(Readable.from([archive]), dest, "none").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostileArchive);
    expect((err as Error).message).toMatch(error);
    // Nothing beside the destination, and nothing in it that is not a regular file.
    expect(await readdir(parent)).toEqual(["dest"]);
    expect((await tree(dest)).filter((p) => p.endsWith("(not a regular file)"))).toEqual([]);
  });

  it.each([
    ["S", "GNU sparse file: its body is a sparse map, not the file's bytes"],
    ["V", "GNU volume header: not a file at all"],
    ["Z", "a typeflag no tar defines"],
  ])("refuses typeflag %s (%s) instead of writing its body as a regular file", async (flag) => {
    const { parent, dest } = await freshDest();
    const archive = withTypeflag(await buildTar([file("odd.bin", "body")]), flag);
    const err = await extractTarStream(Readable.from([archive]), dest, "none").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostileArchive);
    expect((err as Error).message).toMatch(/entries of type unknown are not artifact content/);
    expect(await readdir(parent)).toEqual(["dest"]);
    expect(await tree(dest)).toEqual([]);
  });

  it("refuses a hostile entry inside a gzip-compressed archive too", async () => {
    const { parent, dest } = await freshDest();
    const archive = gzipSync(await buildTar([file("ok.txt"), file("../escaped.txt")]));
    await expect(extractTarStream(Readable.from([archive]), dest, "gzip")).rejects.toBeInstanceOf(HostileArchive);
    expect(await readdir(parent)).toEqual(["dest"]);
  });
});

describe("extractTarStream accepts safe archives as plain regular files", () => {
  it.each(accepted)("$name: $reason", async ({ entries, files }) => {
    const { parent, dest } = await freshDest();
    const out = await extractTarStream(Readable.from([await buildTar(entries)]), dest, "none");
    expect(await tree(dest)).toEqual(Object.keys(files).sort());
    for (const [p, content] of Object.entries(files)) expect(await readFile(join(dest, p), "utf8")).toBe(content);
    expect(out.map((f) => f.path)).toEqual(Object.keys(files).sort());
    for (const f of out) {
      const content = files[f.path] as string;
      expect(f.size).toBe(Buffer.byteLength(content));
      expect(f.sha256).toBe(createHash("sha256").update(content).digest("hex"));
    }
    expect(await readdir(parent)).toEqual(["dest"]);
  });
});

describe("entryPath", () => {
  it.each([
    ["./a/b/", "a/b", "tar's ./ prefix and a directory's trailing slash are dropped"],
    ["a", "a", "a plain name is unchanged"],
  ])("%s -> %s (%s)", (name, want) => {
    expect(entryPath(name)).toBe(want);
  });
  it.each([
    ["..", "the parent itself"],
    ["", "an empty name"],
    ["./", "the destination itself as a file name"],
    ["a//b", "an empty segment, which tools disagree on"],
  ])("refuses %j (%s)", (name) => {
    expect(() => entryPath(name)).toThrow(HostileArchive);
  });
});
