// WAV files (RIFF/WAVE, http://soundfile.sapp.org/doc/WaveFormat/): 16-bit PCM written, PCM 8/16/24/32
// and IEEE float 32 read.
//
//   "RIFF" · size (u32 LE) · "WAVE"
//   chunks: id (4 ASCII) · size (u32 LE) · data · a pad byte when size is odd
//     "fmt "  format (1 PCM, 3 float, 0xFFFE extensible) · channels (u16) · sample rate (u32)
//             · byte rate (u32) · block align (u16) · bits per sample (u16) [· extension]
//     "data"  interleaved frames: channel 0, channel 1, … ; PCM 8-bit is unsigned, wider is signed
//
// The reader is the attack surface: every chunk size is checked against the bytes that are left
// before anything is read or allocated, and every refusal is a LoadError that says what was wrong.

import { ArgumentError, LoadError } from "../engine/errors.js";

export interface Wav {
  sampleRate: number;
  /** one Float32Array per channel, samples in [-1, 1) */
  channels: Float32Array[];
}

/** The bounds a WAV must keep to be read (a real recording needs far less). */
export const WAV_LIMITS = { maxChannels: 64, minSampleRate: 1, maxSampleRate: 768_000 } as const;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Encode channels of samples in [-1, 1] as 16-bit PCM (values outside are clipped; NaN is refused). */
export function encodeWav(wav: Wav): Uint8Array {
  const { sampleRate, channels } = wav;
  if (!Number.isInteger(sampleRate) || sampleRate < WAV_LIMITS.minSampleRate || sampleRate > WAV_LIMITS.maxSampleRate) {
    throw new ArgumentError(
      `encodeWav: sample rate must be an integer in [${WAV_LIMITS.minSampleRate}, ${WAV_LIMITS.maxSampleRate}], got ${sampleRate}`,
    );
  }
  if (channels.length < 1 || channels.length > WAV_LIMITS.maxChannels) {
    throw new ArgumentError(`encodeWav: 1 to ${WAV_LIMITS.maxChannels} channels, got ${channels.length}`);
  }
  const n = channels[0]!.length;
  for (const c of channels) {
    if (c.length !== n)
      throw new ArgumentError(
        `encodeWav: every channel must hold the same number of samples, got ${channels.map((x) => x.length).join(", ")}`,
      );
  }
  const nc = channels.length;
  const dataBytes = n * nc * 2;
  if (44 + dataBytes > 0xffffffff)
    throw new ArgumentError(`encodeWav: ${n} samples × ${nc} channels do not fit in a RIFF file (4 GiB)`);
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, FORMAT_PCM, true);
  v.setUint16(22, nc, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * nc * 2, true);
  v.setUint16(32, nc * 2, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, dataBytes, true);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nc; c++) {
      const s = channels[c]![i]!;
      if (Number.isNaN(s)) throw new ArgumentError(`encodeWav: sample ${i} of channel ${c} is NaN`);
      // s ∈ [-1, 1] → round(s · 32768), clipped to the int16 range: the inverse of the reader's q / 32768,
      // so that decoding and re-encoding a 16-bit file gives back its bytes
      const q = Math.max(-32768, Math.min(32767, Math.round(s * 32768)));
      v.setInt16(44 + (i * nc + c) * 2, q, true);
    }
  }
  return out;
}

/** Decode a RIFF/WAVE file. Malformed, truncated or unsupported files raise LoadError. */
export function decodeWav(bytes: Uint8Array): Wav {
  if (!(bytes instanceof Uint8Array)) throw new LoadError("decodeWav: expected the file's bytes as a Uint8Array");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE")
    throw new LoadError("decodeWav: not a RIFF/WAVE file (no 'RIFF' … 'WAVE' header)");
  // The RIFF size may overstate a truncated file; chunks are bounded by the bytes actually present.
  const end = Math.min(bytes.length, 8 + v.getUint32(4, true));

  let fmt: { format: number; nc: number; sampleRate: number; blockAlign: number; bits: number } | undefined;
  let at = 12;
  while (at + 8 <= end) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (size > end - body)
      throw new LoadError(
        `decodeWav: chunk '${printable(id)}' at byte ${at} claims ${size} bytes but only ${end - body} remain`,
      );
    if (id === "fmt ") {
      if (size < 16) throw new LoadError(`decodeWav: 'fmt ' chunk of ${size} bytes is shorter than 16`);
      let format = v.getUint16(body, true);
      const nc = v.getUint16(body + 2, true);
      const sampleRate = v.getUint32(body + 4, true);
      const blockAlign = v.getUint16(body + 12, true);
      const bits = v.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40) throw new LoadError(`decodeWav: extensible 'fmt ' chunk of ${size} bytes is shorter than 40`);
        format = v.getUint16(body + 24, true); // the sub-format GUID starts with the format code
      }
      fmt = { format, nc, sampleRate, blockAlign, bits };
    } else if (id === "data") {
      if (!fmt) throw new LoadError("decodeWav: 'data' chunk before any 'fmt ' chunk");
      return { sampleRate: fmt.sampleRate, channels: samples(bytes, v, body, size, fmt) };
    }
    at = body + size + (size & 1);
  }
  throw new LoadError(fmt ? "decodeWav: no 'data' chunk" : "decodeWav: no 'fmt ' chunk");
}

function samples(
  bytes: Uint8Array,
  v: DataView,
  body: number,
  size: number,
  fmt: { format: number; nc: number; sampleRate: number; blockAlign: number; bits: number },
): Float32Array[] {
  const { format, nc, sampleRate, blockAlign, bits } = fmt;
  if (nc < 1 || nc > WAV_LIMITS.maxChannels)
    throw new LoadError(`decodeWav: ${nc} channels (1 to ${WAV_LIMITS.maxChannels} are read)`);
  if (sampleRate < WAV_LIMITS.minSampleRate || sampleRate > WAV_LIMITS.maxSampleRate)
    throw new LoadError(
      `decodeWav: sample rate ${sampleRate} Hz outside [${WAV_LIMITS.minSampleRate}, ${WAV_LIMITS.maxSampleRate}]`,
    );
  const pcm = format === FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32);
  const float = format === FORMAT_FLOAT && bits === 32;
  if (!pcm && !float)
    throw new LoadError(
      `decodeWav: format ${format} with ${bits} bits per sample is not read (PCM 8/16/24/32 and float 32 are)`,
    );
  const width = bits / 8;
  if (blockAlign !== width * nc)
    throw new LoadError(`decodeWav: block align ${blockAlign} is not ${nc} channels × ${width} bytes`);
  const n = Math.floor(size / blockAlign); // a trailing partial frame is ignored
  const channels = Array.from({ length: nc }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nc; c++) {
      const p = body + (i * nc + c) * width;
      let s: number;
      if (float) s = v.getFloat32(p, true);
      else if (bits === 8) s = (bytes[p]! - 128) / 128;
      else if (bits === 16) s = v.getInt16(p, true) / 32768;
      else if (bits === 24) s = (((bytes[p + 2]! << 24) | (bytes[p + 1]! << 16) | (bytes[p]! << 8)) >> 8) / 8388608;
      else s = v.getInt32(p, true) / 2147483648;
      channels[c]![i] = s;
    }
  }
  return channels;
}

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, "?");
