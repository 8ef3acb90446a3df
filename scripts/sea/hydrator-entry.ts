// The hydrator alone (hydrate, verify, version) as one file for a Node single
// executable application: no server, no TypeScript at run time, no Node install
// needed on the machine (scripts/sea/build.sh).
import { runHydrateCli, runVerifyCli } from "../../functions/hydrator/cli.ts";
import { VERSION } from "../../functions/version.ts";

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "hydrate":
      return runHydrateCli(args);
    case "verify":
      return runVerifyCli(args);
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

// A single executable's argv is [binary, binary, ...args].
void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
