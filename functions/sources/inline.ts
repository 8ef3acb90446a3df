// inline: small files written in the spec itself (chat templates, configs).
// The content is the revision; it reaches the Job through a ConfigMap.
import { z } from "zod";
import { INLINE_PATH, SAFE_PATH_MESSAGE } from "../api/source-fields.ts";
import { canonicalJson, sha256Hex } from "../common/canonical-json.ts";
import { argsOnly, sourceMount, SOURCE_MOUNT, type SourceKind } from "./kind.ts";

/** Above this the inline files would not fit one ConfigMap (1 MiB, less metadata). */
export const INLINE_MAX_BYTES = 900 * 1024;

export const InlineFile = z
  .object({
    path: z.string().regex(INLINE_PATH, `${SAFE_PATH_MESSAGE}; no name in it may start with '..' (a ConfigMap volume reserves those)`),
    content: z.string().max(262144).describe("UTF-8 text; inline sources are for small files such as chat templates."),
  })
  .strict();

export const InlineSource = z.object({ files: z.array(InlineFile).min(1).max(64) }).strict();

export const inline: SourceKind<typeof InlineSource> = {
  key: "inline",
  schema: InlineSource,
  identity: (i) => ({ inline: { files: i.files } }),
  line: (i) => `${i.files.length} inline files`,
  immutableRevision: (i) => `sha256:${sha256Hex(canonicalJson(i.files))}`,
  revisionComparable: false,
  // Nothing is fetched over the network.
  fetches: () => [],
  plan(i, { sourceConfigMap }) {
    // ConfigMap keys cannot hold '/', so files travel under f<i> and the
    // volume projects each to its relative path.
    const data: Record<string, string> = {};
    const items: { key: string; path: string }[] = [];
    let bytes = 0;
    i.files.forEach((f, n) => {
      data[`f${n}`] = f.content;
      items.push({ key: `f${n}`, path: f.path });
      bytes += Buffer.byteLength(f.content, "utf8");
    });
    if (bytes > INLINE_MAX_BYTES)
      return {
        ok: false,
        error: {
          field: "spec.artifact.source.inline.files",
          message: `hold ${bytes} bytes; inline files must fit one ConfigMap (${INLINE_MAX_BYTES} bytes): use another source`,
        },
      };
    return {
      ok: true,
      value: { ...argsOnly({ source: `file://${SOURCE_MOUNT}` }), ...sourceMount({ configMap: { name: sourceConfigMap, items } }), configMap: { data, items } },
    };
  },
};
