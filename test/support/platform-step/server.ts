// The real server (flags, credentials, logging, the worker pool) around the
// platform-step stand-in (compose.ts), for `crossplane render` of the serving examples.
import { parseServeFlags } from "../../../functions/server/flags.ts";
import { newLogger } from "../../../functions/server/logger.ts";
import { serveUntilSignalled } from "../../../functions/server/serve.ts";

const flags = parseServeFlags(process.argv.slice(2), process.env);
if (!flags.ok) {
  process.stderr.write(`${flags.error}\n`);
  process.exit(2);
}
const composer = { url: new URL("./compose.ts", import.meta.url).href, options: null };
process.exitCode = await serveUntilSignalled(flags.config, composer, newLogger(flags.config.debug));
