// cel-js' uint value class. cel-js neither exports it nor declares it, so it is taken from a uint
// value the library itself makes, once, and typed as its declarations describe it.
import { evaluate } from "@marcbachmann/cel-js";

interface UintValue {
  readonly value: bigint;
  valueOf(): bigint;
}
type UintClass = new (value: bigint | number) => UintValue;

export const UnsignedInt: UintClass = (evaluate("uint(0)") as { constructor: UintClass }).constructor;
export type UnsignedInt = UintValue;
