// The hydrator alone (hydrate, verify, version) as one file for a Node single
// executable application: no server, no TypeScript at run time, no Node install
// needed on the machine (scripts/sea/build.sh).
import { hydratorMain } from "../../functions/hydrator/main.ts";

// A single executable's argv is [binary, binary, ...args].
void hydratorMain(process.argv.slice(2)).then((code) => (process.exitCode = code));
