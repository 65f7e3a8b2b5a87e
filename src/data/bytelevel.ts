// GPT-2's byte-level alphabet and its pre-tokenizer (Radford et al. 2019, "Language Models are
// Unsupervised Multitask Learners", section 2.2; the `encoder.py` of openai/gpt-2).
//
// Byte-level BPE works on the UTF-8 bytes of the text, so every string can be encoded and nothing is
// ever unknown. To keep tokens printable (and JSON-friendly), each of the 256 bytes is shown as one
// Unicode character: the 188 bytes that are already printable Latin-1 characters ('!'..'~', '¡'..'¬',
// '®'..'ÿ') stand for themselves, and the other 68 (control bytes, space, DEL, NBSP, soft hyphen, ...)
// are shifted in byte order to U+0100, U+0101, ...: the space 0x20 becomes 'Ġ' (U+0120) and the
// newline 0x0A becomes 'Ċ' (U+010A). GPT-2's first 256 token ids are these characters in the order
// printable-first, then the shifted ones — the order of BYTE_ORDER below.

/** The 256 bytes in GPT-2's vocabulary order: the printable ranges first, then the rest by value. */
export const BYTE_ORDER: readonly number[] = (() => {
  const order: number[] = [];
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  for (let b = 0; b < 256; b++) if (printable(b)) order.push(b);
  for (let b = 0; b < 256; b++) if (!printable(b)) order.push(b);
  return order;
})();

/** BYTE_TO_CHAR[b]: the one-character string that stands for byte b in a token. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table = new Array<string>(256);
  let shifted = 0;
  for (const b of BYTE_ORDER) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    // printable bytes keep their Latin-1 character; the others take U+0100 + (their rank among them)
    table[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return table;
})();

/** The inverse table: char code of a byte-level character → byte (−1 for characters outside it). */
const CHAR_TO_BYTE: Int16Array = (() => {
  const inv = new Int16Array(256 + 68).fill(-1);
  for (let b = 0; b < 256; b++) inv[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b;
  return inv;
})();

/** The byte a byte-level character stands for, or −1 when the character is not one of the 256. */
export function charToByte(ch: string): number {
  const c = ch.charCodeAt(0);
  return ch.length === 1 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
}

/** UTF-8 bytes → their byte-level string (one character per byte). */
export function bytesToChars(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!];
  return s;
}

/**
 * GPT-2's pre-tokenization pattern, as in encoder.py:
 *
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * English contractions; a run of letters, of digits, or of other symbols, each with at most one
 * leading space; runs of whitespace (a run followed by a word leaves its last space to that word:
 * `\s+(?!\S)`). One change of spelling, none of meaning: Python's `regex` module (which encoder.py
 * uses) reads `\s` as the Unicode White_Space property, while JavaScript's `\s` also takes U+FEFF and
 * leaves out U+0085, so the JavaScript pattern names `\p{White_Space}` explicitly.
 */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** Split text into GPT-2's pre-tokens; their concatenation is the text again. */
export function pretokenize(text: string): string[] {
  return text.match(new RegExp(GPT2_PATTERN)) ?? [];
}
