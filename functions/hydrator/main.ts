// The hydrator's commands alone (hydrate, verify, version): what the
// hydration Job runs. `functions/cli.ts` hands these commands here; the
// hydrator image runs this module prebuilt as one JavaScript bundle (`npm run
// build:hydrator`, FMC_HYDRATOR_BUNDLE in the Dockerfile) and the single
// executable (scripts/sea/build.sh) embeds the same, so the Job loads no
// server code and Node strips no TypeScript at run time (18 MiB less peak RSS,
// docs/benchmarks.md).
import { setFlagsFromString } from "node:v8";
import { VERSION } from "../version.ts";

/**
 * V8 sizes its old generation for memory, not speed: a limit a little above what is alive instead of up to four
 * times it. The hydrator's live heap is small (tens of MiB), but tens of thousands of small files make garbage that
 * outlives a scavenge (each file's promises, requests and strings span a fetch, a write and an fsync); V8's default
 * growing factor let it pile up to 225 MiB of heap for 53 MiB alive at 40,000 files (docs/benchmarks.md, "Many
 * small files"). Set before any command runs; it changes no result, only when the collector runs.
 */
export function sizeHeapForMemory(): void {
  setFlagsFromString("--optimize-for-size");
}

/** Runs one hydrator command; the exit code. */
export async function hydratorMain(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "hydrate": {
      sizeHeapForMemory();
      const { runHydrateCli } = await import("./cli.ts");
      return runHydrateCli(args);
    }
    case "verify": {
      sizeHeapForMemory();
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
