// One seed for every property test, so a CI run can be replayed and a new
// seed never fails a landing by chance. FMC_FUZZ_SEED=random explores new
// inputs (what found the field-0 and __proto__ cases); a number replays a run.
import * as fc from "fast-check";

const seed = process.env["FMC_FUZZ_SEED"];
if (seed !== "random") fc.configureGlobal({ seed: seed === undefined || seed === "" ? 20261202 : Number(seed) });
