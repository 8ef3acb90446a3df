// function-model-cache: one binary, three jobs. `serve` is the Crossplane
// function; `hydrate` and `verify` are the hydrator the Jobs (and laptops) run.
// Each command imports only its own modules: the hydrator's Job need not load
// the gRPC server and the composition logic (about 20 MiB of RSS and a second
// of start-up, docs/benchmarks.md).
import { DEV_HYDRATOR_IMAGE, VERSION } from "./version.ts";

const USAGE = `function-model-cache ${VERSION}

Usage:
  function-model-cache serve [flags]              run the Crossplane composition function (gRPC)
  function-model-cache hydrate --source <uri> --dest <dir> [flags]
                                                  fetch, verify and publish an artifact
  function-model-cache verify <dir> [flags]       re-check a published artifact
  function-model-cache version

Run a command with --help for its flags.
`;

async function main(argv: string[]): Promise<number> {
  // Flags without a command mean serve: `crossplane render`'s Docker runtime
  // starts the image with just `--insecure`.
  const [command, ...args] = argv[0]?.startsWith("-") && argv[0] !== "--help" && argv[0] !== "-h" && argv[0] !== "--version" ? ["serve", ...argv] : argv;
  switch (command) {
    case "serve": {
      const { parseServeFlags, SERVE_USAGE } = await import("./server/flags.ts");
      if (args.includes("--help") || args.includes("-h")) {
        process.stdout.write(SERVE_USAGE);
        return 0;
      }
      const flags = parseServeFlags(args, process.env);
      if (!flags.ok) {
        process.stderr.write(`function-model-cache serve: ${flags.error}\n\n${SERVE_USAGE}`);
        return 2;
      }
      // The composition logic is loaded by each worker thread (functions/server/pool.ts), not here.
      const [{ runFunctionComposer }, { newLogger }, { serveUntilSignalled }] = await Promise.all([
        import("./server/composer.ts"),
        import("./server/logger.ts"),
        import("./server/serve.ts"),
      ]);
      const log = newLogger(flags.config.debug);
      // With TLS the flags refuse to start without an image (functions/version.ts says where it comes from).
      const hydratorImage = flags.config.hydratorImage ?? DEV_HYDRATOR_IMAGE;
      return serveUntilSignalled(flags.config, runFunctionComposer(hydratorImage), log);
    }
    case "hydrate":
    case "verify": {
      const { hydratorMain } = await import("./hydrator/main.ts");
      return hydratorMain([command, ...args]);
    }
    case "version":
    case "--version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`function-model-cache: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
