#!/usr/bin/env node
// The reference samples of docs/compare/tts.md, after `npm run build`:
//
//   nice -n 10 node tools/tts-samples.mjs OUT_DIR ["Call me Ishmael."]
//
// writes OUT_DIR/teacher.wav (the flite teacher voice reading the text, as the corpus has it), OUT_DIR/teacher-mel.png
// (its log-mel) and OUT_DIR/teacher-griffin-lim.wav (the teacher's own log-mel, as the recipes compute it, through the
// same NNLS mel inversion and 60 Griffin-Lim iterations that `wnn say` uses: the floor of every model heard through
// Griffin-Lim), and prints that floor's MCD against the teacher. The models' samples come from `wnn say`.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { teacherSay } from "../dist/src/data/node/teacher.js";
import { decodeWav, encodeWav } from "../dist/src/io/wav.js";
import { melPng, prepareUtterance, TTS_AUDIO } from "../dist/src/recipes/tts-data.js";
import { deflatePng } from "../dist/src/io/node.js";
import { teacherMcd, vocode } from "../dist/src/recipes/tts-eval.js";

const [dir, text = "Call me Ishmael."] = process.argv.slice(2);
if (!dir) {
  process.stderr.write("usage: node tools/tts-samples.mjs OUT_DIR [TEXT]\n");
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const wav = teacherSay(text);
const u = prepareUtterance(text, [], decodeWav(wav).channels[0]);
const floor = vocode(Float64Array.from(u.mel), u.nFrames, { kind: "griffin-lim", iterations: 60 });
writeFileSync(join(dir, "teacher.wav"), encodeWav({ sampleRate: TTS_AUDIO.sampleRate, channels: [u.samples] }));
writeFileSync(join(dir, "teacher-griffin-lim.wav"), encodeWav({ sampleRate: TTS_AUDIO.sampleRate, channels: [floor] }));
writeFileSync(join(dir, "teacher-mel.png"), deflatePng(melPng(u.mel, u.nFrames, `teacher: ${text}`)));
process.stdout.write(
  `${JSON.stringify(text)}: teacher ${(u.samples.length / TTS_AUDIO.sampleRate).toFixed(2)} s (trimmed); Griffin-Lim on its mels: MCD ${teacherMcd(u, floor).toFixed(2)} dB\n`,
);
