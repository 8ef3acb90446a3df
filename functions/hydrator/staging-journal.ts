// The staging journal: one append-only file recording every single-chunk
// object (a small file, or one fetched without ranges) once its bytes are
// durable and hashed. Such an object has no chunk state worth keeping (it is
// fetched whole or not at all), so instead of a state file of its own (an
// atomic write, two fsyncs and a rename per file), completions are appended
// in batches with one fdatasync per batch (group commit): 40,000 small files
// cost a few hundred journal syncs, not 80,000.
//
// A line is `{"id","size","sha256"}`. A line torn by a kill is ignored (that
// object is fetched again). An entry counts only while the data file it
// names still has its size (the caller checks).
import { open, readFile, type FileHandle } from "node:fs/promises";
import { z } from "zod";

const Entry = z.object({ id: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type JournalEntry = z.infer<typeof Entry>;

/** Every well-formed entry of the journal at `path`, by id (later lines win); empty when there is none. */
export async function readJournal(path: string): Promise<Map<string, JournalEntry>> {
  const out = new Map<string, JournalEntry>();
  const text = await readFile(path, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const e = Entry.safeParse(json);
    if (e.success) out.set(e.data.id, e.data);
  }
  return out;
}

export class StagingJournal {
  readonly path: string;
  #fh: Promise<FileHandle> | undefined;
  #pending: { line: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #draining = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends `entry`; resolves once it is durable (batched with whatever else is appended meanwhile). */
  append(entry: JournalEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0);
        try {
          this.#fh ??= open(this.path, "a");
          const fh = await this.#fh;
          await fh.write(batch.map((b) => b.line).join(""));
          await fh.datasync();
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await (await fh?.catch(() => undefined))?.close();
  }
}
