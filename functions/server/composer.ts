// Where a worker finds the composition logic. A function cannot be posted to
// another thread, so the server is given a module instead: its URL and JSON
// options; each worker imports it and calls its createCompose(options).
import { z } from "zod";
import type { JsonValue } from "../sdk/types.ts";
import type { Compose } from "./service.ts";

export interface ComposerModule {
  /** A module URL (file:) exporting `createCompose(options: JsonValue): Compose | Promise<Compose>`. */
  url: string;
  options: JsonValue;
}

/** The function's own composition logic (functions/composition), with the hydrator image it defaults to. */
export function runFunctionComposer(defaultHydratorImage: string): ComposerModule {
  return { url: new URL("./compose-run-function.ts", import.meta.url).href, options: { defaultHydratorImage } };
}

const ComposerExports = z.object({ createCompose: z.custom<(options: JsonValue) => Compose | Promise<Compose>>((v) => typeof v === "function") });

/** Import the module and make its Compose; a module that exports none is an error naming it. */
export async function loadCompose(composer: ComposerModule): Promise<Compose> {
  const exported = ComposerExports.safeParse(await import(composer.url));
  if (!exported.success) throw new Error(`${composer.url} exports no createCompose function`);
  return exported.data.createCompose(composer.options);
}
