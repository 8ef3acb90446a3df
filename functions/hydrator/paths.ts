// Path safety and URI redaction: nothing a source lists may escape the
// destination, and nothing printed may carry a credential. Every path the
// hydrator reads from anywhere (a source's listing, an archive entry, an OCI
// title, an old manifest, a Hugging Face revision or commit) passes
// safeRelativePath before it is joined, and every path it writes, renames or
// deletes under the destination passes resolveInside, which also refuses a
// symlink planted on the way.
import { lstat } from "node:fs/promises";
import { join } from "node:path";

import type { Checked } from "../common/checked.ts";
import { relativePathProblem } from "../common/relative-path.ts";

/**
 * A relative POSIX path that stays inside the destination, or why not: the one
 * rule the API applies too (../common/relative-path.ts). Refused: empty,
 * absolute, `..` or `.` segments, empty segments, backslashes (a Windows
 * separator on some tools), NUL and other control characters (SHA256SUMS lines
 * and terminals must stay one line per file), over 1,024 characters.
 */
export function safeRelativePath(path: string): Checked<string> {
  const problem = relativePathProblem(path);
  return problem === undefined ? { ok: true, value: path } : { ok: false, error: problem };
}

/**
 * `<root>/<rel>` when `rel` is a safe relative path and no existing directory
 * on the way is a symlink or not a directory: a link planted in the
 * destination (`a -> /etc`) must not carry a write, a rename or an unlink of
 * `a/passwd` outside it. The last component itself is not followed by the
 * callers (unlink, rename and lstat act on the link, not its target).
 */
export async function resolveInside(root: string, rel: string): Promise<Checked<string>> {
  const safe = safeRelativePath(rel);
  if (!safe.ok) return safe;
  const segments = rel.split("/");
  let cur = root;
  for (const seg of segments.slice(0, -1)) {
    cur = join(cur, seg);
    const st = await lstat(cur).catch(() => undefined);
    if (st === undefined) break; // nothing further exists: nothing to follow
    if (st.isSymbolicLink()) return { ok: false, error: `"${rel}": "${seg}" is a symlink inside the destination` };
    if (!st.isDirectory()) return { ok: false, error: `"${rel}": "${seg}" is not a directory` };
  }
  return { ok: true, value: join(root, rel) };
}

// One redaction for the function (status, conditions, events) and the hydrator (reports, logs, the manifest).
export { redactUri } from "../api/redact.ts";
