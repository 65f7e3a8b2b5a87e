// Captions for MNIST digits, made from the label and simple statistics of the pixels, and the small word
// tokenizer that feeds them to the text encoder — the text side of the latent-diffusion recipe (train.ts).
//
// For a digit p (28×28, ink in [0, 1]), with m = Σ p the ink mass and (x̄, ȳ) its centre of mass:
//   thickness: m itself, compared within the digit's class (a "1" has less ink than an "8" of the same stroke);
//   slant:     s = −μ₁₁ / μ₀₂, μ₁₁ = Σ (x − x̄)(y − ȳ)·p, μ₀₂ = Σ (y − ȳ)²·p — the shear that would make the digit
//              upright (y grows downwards, so a digit leaning right has μ₁₁ < 0 and s > 0).
// A digit above the top third's threshold of its class is "thick" / "slanted", in the bottom third "thin" / "upright", and
// the middle third gets no word: "a thick slanted seven", "a thin four", "an eight".
// Size and position are not in the captions: MNIST's digits are scaled into a 20-pixel box and centred by
// their centre of mass, so neither varies enough to name.
// Browser-safe.

import { ArgumentError, LoadError } from "../../engine/errors.js";

export const DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"] as const;

/** The statistics of one 28×28 digit. */
export interface DigitStats {
  /** m = Σ p */
  mass: number;
  /** s = −μ₁₁ / μ₀₂ */
  slant: number;
}

const SIDE = 28;

/** m and s of the digit at `offset` in `pixels` (28·28 values in [0, 1]). */
export function digitStats(pixels: ArrayLike<number>, offset = 0): DigitStats {
  let m = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const p = pixels[offset + y * SIDE + x]!;
      m += p;
      sx += x * p;
      sy += y * p;
    }
  if (m <= 0) return { mass: 0, slant: 0 };
  const xb = sx / m,
    yb = sy / m;
  let mu11 = 0,
    mu02 = 0;
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const p = pixels[offset + y * SIDE + x]!;
      mu11 += (x - xb) * (y - yb) * p;
      mu02 += (y - yb) * (y - yb) * p;
    }
  return { mass: m, slant: mu02 > 0 && mu11 !== 0 ? -mu11 / mu02 : 0 };
}

/** Per class: the thirds (1/3 and 2/3 quantiles) and the median of the mass and of the slant. */
export interface CaptionThresholds {
  mass: { lo: number; mid: number; hi: number }[];
  slant: { lo: number; mid: number; hi: number }[];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

/** The thresholds of a labelled set of digits (N·784 pixels, N labels in 0–9). */
export function captionThresholds(images: Float32Array, labels: Int32Array, count: number): CaptionThresholds {
  const mass: number[][] = DIGIT_NAMES.map(() => []),
    slant: number[][] = DIGIT_NAMES.map(() => []);
  for (let i = 0; i < count; i++) {
    const s = digitStats(images, i * SIDE * SIDE),
      y = labels[i]!;
    mass[y]!.push(s.mass);
    slant[y]!.push(s.slant);
  }
  const thirds = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return { lo: quantile(s, 1 / 3), mid: quantile(s, 0.5), hi: quantile(s, 2 / 3) };
  };
  return { mass: mass.map(thirds), slant: slant.map(thirds) };
}

/** The words a digit earns: thickness then slant, each or neither. */
export function attributes(s: DigitStats, label: number, th: CaptionThresholds): string[] {
  const m = th.mass[label]!,
    sl = th.slant[label]!;
  const words: string[] = [];
  if (s.mass > m.hi) words.push("thick");
  else if (s.mass < m.lo) words.push("thin");
  if (s.slant > sl.hi) words.push("slanted");
  else if (s.slant < sl.lo) words.push("upright");
  return words;
}

/** "a thick slanted seven", "an eight": the article, the words, the digit's name. */
export function caption(label: number, words: readonly string[]): string {
  const rest = [...words, DIGIT_NAMES[label]!];
  return `${/^[aeiou]/.test(rest[0]!) ? "an" : "a"} ${rest.join(" ")}`;
}

/** What a caption asks for: the digit and the attribute words (a caption the vocabulary can read). */
export function parseCaption(text: string): { digit: number | null; words: string[] } {
  const words = text.toLowerCase().trim().split(/\s+/).filter(Boolean);
  let digit: number | null = null;
  const attrs: string[] = [];
  for (const w of words) {
    const d = (DIGIT_NAMES as readonly string[]).indexOf(w);
    if (d >= 0) digit = d;
    else if (w === "thick" || w === "thin" || w === "slanted" || w === "upright") attrs.push(w);
  }
  return { digit, words: attrs };
}

/**
 * Does a drawn digit show an attribute word? Judged against its class's median (a lenient test: a digit drawn
 * at random passes about half the time): thick m > median, thin m < median, slanted s > median, upright s < median.
 */
export function attributeHolds(word: string, s: DigitStats, label: number, th: CaptionThresholds): boolean {
  const m = th.mass[label]!.mid,
    sl = th.slant[label]!.mid;
  switch (word) {
    case "thick":
      return s.mass > m;
    case "thin":
      return s.mass < m;
    case "slanted":
      return s.slant > sl;
    case "upright":
      return s.slant < sl;
    default:
      throw new ArgumentError(`attributeHolds: unknown attribute "${word}"`);
  }
}

// ---------------------------------------------------------------------------------------------------
// The word tokenizer: CLIP's shape of ids ([bos, words…, eos], padded with eos, eos the highest id so that
// the text encoder's pooled state, at argmax(ids), is the end token's), over the captions' few words.

export const CAPTION_VOCAB = ["<bos>", "a", "an", "thick", "thin", "slanted", "upright", ...DIGIT_NAMES, "<eos>"];

export class WordTokenizer {
  readonly vocab: readonly string[];
  readonly bos: number;
  readonly eos: number;
  private readonly ids: Map<string, number>;

  constructor(vocab: readonly string[] = CAPTION_VOCAB) {
    if (vocab.length < 3 || vocab[0] !== "<bos>" || vocab[vocab.length - 1] !== "<eos>")
      throw new LoadError(`WordTokenizer: the vocabulary must start with <bos> and end with <eos>`);
    this.vocab = [...vocab];
    this.ids = new Map(vocab.map((w, i) => [w, i]));
    this.bos = 0;
    this.eos = vocab.length - 1;
  }

  /** [bos, ids…, eos] padded with eos to `length`; a word outside the vocabulary is an error naming the words known. */
  prompt(text: string, length: number): Int32Array {
    const words = text.toLowerCase().trim().split(/\s+/).filter(Boolean);
    // the caption and a word quoted at most 60 characters long: a message stays one short line
    const quote = (t: string): string => JSON.stringify(t.length > 60 ? `${t.slice(0, 60)}...` : t);
    if (words.length + 2 > length)
      throw new ArgumentError(`WordTokenizer: ${quote(text)} has ${words.length} words; at most ${length - 2} fit`);
    const out = new Int32Array(length).fill(this.eos);
    out[0] = this.bos;
    words.forEach((w, i) => {
      const id = this.ids.get(w);
      if (id === undefined || id === this.bos || id === this.eos)
        throw new ArgumentError(
          `WordTokenizer: unknown word ${quote(w)}; the captions use: ${this.vocab.slice(1, -1).join(", ")}`,
        );
      out[i + 1] = id;
    });
    return out;
  }
}
