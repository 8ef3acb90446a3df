// The hydrator's commands alone (hydrate, verify, version): what the
// hydration Job runs. `functions/cli.ts` hands these commands here; the
// hydrator image runs this module prebuilt as one JavaScript bundle (`npm run
// build:hydrator`, FMC_HYDRATOR_BUNDLE in the Dockerfile) and the single
// executable (scripts/sea/build.sh) embeds the same, so the Job loads no
// server code and Node strips no TypeScript at run time (18 MiB less peak RSS,
// docs/benchmarks.md).
import { VERSION } from "../version.ts";
import { sizeHeapForMemory } from "./young-gc.ts";

/** Runs one hydrator command; the exit code. */
export async function hydratorMain(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "hydrate": {
      // Before anything is loaded (young-gc.ts): many small files' garbage kept within about 1.2x of what is alive.
      sizeHeapForMemory();
      const { runHydrateCli } = await import("./cli.ts");
      return runHydrateCli(args);
    }
    case "verify": {
      const { runVerifyCli } = await import("./cli.ts");
      return runVerifyCli(args);
    }
    case "version":
    case "--version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    default:
      process.stderr.write(
        `${command === undefined ? "" : `unknown command "${command}"; `}usage: function-model-cache-hydrator hydrate|verify|version [flags] (--help for each)\n`,
      );
      return command === "--help" || command === "-h" ? 0 : 2;
  }
}
