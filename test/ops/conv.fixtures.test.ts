// PyTorch parity of the conv family: test/fixtures/ops/conv.json, written by tools/fixtures/ops_conv.py.
import * as wnn from "../../src/index.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";
import { ELEMENTWISE_TOL, FUSED_TOL } from "../harness/optable.js";

const F = wnn.nn.functional;

const calls: Record<string, FixtureCall> = {
  conv2d: ([x, w, b], a) => F.conv2d(x!, w!, b ?? null, a),
  conv1d: ([x, w, b], a) => F.conv1d(x!, w!, b ?? null, a),
  convTranspose2d: ([x, w, b], a) => F.convTranspose2d(x!, w!, b ?? null, a),
  maxPool2d: ([x], { kernelSize, ...a }) => F.maxPool2d(x!, kernelSize, a),
  avgPool2d: ([x], { kernelSize, ...a }) => F.avgPool2d(x!, kernelSize, a),
  adaptiveAvgPool2d: ([x], a) => F.adaptiveAvgPool2d(x!, a.outputSize),
  interpolate: ([x], a) => F.interpolate(x!, a),
};

// max pooling and nearest resampling copy values; the rest sum products (fused-op tolerance)
replayFixtures("ops/conv.json", calls, (op) => (op === "maxPool2d" ? ELEMENTWISE_TOL : FUSED_TOL));
