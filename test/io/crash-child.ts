// Child process of crash.test.ts: saves checkpoints for steps start, start+1, ... to one path until it
// is killed, printing "saved <step>" after each save returns. Checkpoint <step> is checkpointFor(step).
import { writeSync } from "node:fs";
import { saveCheckpoint } from "../../src/io/node.js";
import { checkpointFor } from "./crash-shared.js";

const [path, start] = [process.argv[2]!, Number(process.argv[3])];
writeSync(1, "ready\n");
for (let step = start; ; step++) {
  saveCheckpoint(path, checkpointFor(step));
  writeSync(1, `saved ${step}\n`);
}
