// Op-table entries of the shape family (see test/harness/optable.ts).
import type { OpInfo } from "../../harness/optable.js";

export const cases: OpInfo[] = [];
