// Inline files: small text (or base64) files given in full, e.g. a tokenizer
// config or a chat template. In a cluster the function projects inline files
// through a ConfigMap volume and the Job reads them with file://; this source
// serves the same files from a JSON list (--inline <file>) on a laptop.
import { createHash } from "node:crypto";
import { z } from "zod";
import { safeRelativePath } from "../paths.ts";
import type { Checked } from "../../common/checked.ts";
import { SourceError, type ByteRange, type Listing, type RemoteObject, type Source } from "./types.ts";

export const InlineFile = z.object({
  path: z.string(),
  content: z.string(),
  encoding: z.enum(["utf8", "base64"]).default("utf8"),
});
export type InlineFile = z.infer<typeof InlineFile>;
export const InlineFileList = z.array(InlineFile).min(1, "no inline files");

export function createInlineSource(files: readonly InlineFile[]): Checked<InlineSource> {
  const bytes = new Map<string, Buffer>();
  for (const f of files) {
    const safe = safeRelativePath(f.path);
    if (!safe.ok) return { ok: false, error: `inline file: ${safe.error}` };
    if (bytes.has(f.path)) return { ok: false, error: `inline file "${f.path}" is given twice` };
    if (f.encoding === "base64") {
      // Buffer.from skips characters that are not base64: a wrong encoding would become a "verified" file of garbage.
      const clean = f.content.replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0)
        return { ok: false, error: `inline file "${f.path}": the content is not valid base64` };
      bytes.set(f.path, Buffer.from(clean, "base64"));
    } else {
      bytes.set(f.path, Buffer.from(f.content, "utf8"));
    }
  }
  return { ok: true, value: new InlineSource(bytes) };
}

export class InlineSource implements Source {
  readonly #files: Map<string, Buffer>;
  constructor(files: Map<string, Buffer>) {
    this.#files = files;
  }

  async list(_signal: AbortSignal): Promise<Listing> {
    const objects: RemoteObject[] = [];
    const h = createHash("sha256");
    for (const [path, buf] of [...this.#files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const hex = createHash("sha256").update(buf).digest("hex");
      h.update(`${path}\0${buf.length}\0${hex}\n`);
      objects.push({ id: path, size: buf.length, expected: { algorithm: "sha256", hex }, unpack: { kind: "file", path } });
    }
    return { identity: { kind: "inline", reference: `inline (${this.#files.size} files)`, resolved: `sha256:${h.digest("hex")}` }, objects };
  }

  async read(object: RemoteObject, range: ByteRange | undefined, _signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const buf = this.#files.get(object.id);
    if (buf === undefined) throw new SourceError(`${object.id}: not in the listing`, { retryable: false });
    const slice = range ? buf.subarray(range.start, range.end + 1) : buf;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(slice));
        controller.close();
      },
    });
  }

  supportsRanges(_object: RemoteObject): boolean {
    return true;
  }
}
