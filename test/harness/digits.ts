// Synthetic stand-ins for MNIST, for the tests of the MNIST recipes (no data set needed).

import type { Generator } from "../../src/index.js";

/** Synthetic "digits": class k is a bright bar at row 2 + 2k on noise, so a few steps learn it. */
export function syntheticDigits(n: number, g: Generator): { images: Float32Array; labels: Int32Array; count: number } {
  const images = new Float32Array(n * 784),
    labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = (labels[i] = g.randint(0, 10));
    for (let p = 0; p < 784; p++) images[i * 784 + p] = 0.2 * g.random();
    for (let col = 4; col < 24; col++) images[i * 784 + (2 + 2 * k) * 28 + col] = 1;
  }
  return { images, labels, count: n };
}
