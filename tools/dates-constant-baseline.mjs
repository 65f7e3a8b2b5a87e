// The best answer that ignores the input, on the encoder-decoder-compare test set (seed 0: distinctPairs of the
// dates task, 200 dates, Generator(seed + 3)): at each of the ten ISO positions the most common character of the
// test targets; its share of characters right is what a model reaches that has learnt only the output's format.
//   npm run build && node tools/dates-constant-baseline.mjs [seed] [testSize]
import { Generator } from "../dist/src/index.js";
import { datesTask } from "../dist/src/data/tasks/dates.js";
import { distinctPairs } from "../dist/src/data/tasks/seq.js";

const seed = Number(process.argv[2] ?? 0),
  n = Number(process.argv[3] ?? 200);
const test = distinctPairs(datesTask(), n, new Generator(seed + 3));
let answer = "",
  right = 0;
for (let j = 0; j < 10; j++) {
  const counts = new Map();
  for (const p of test) counts.set(p.tgt[j], (counts.get(p.tgt[j]) ?? 0) + 1);
  const [c, k] = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  answer += c;
  right += k;
}
const exact = test.filter((p) => p.tgt === answer).length;
console.log(
  `constant answer ${answer}: characters right ${((100 * right) / (10 * n)).toFixed(1)}%, exact match ${((100 * exact) / n).toFixed(1)}% on ${n} test dates (seed ${seed})`,
);
