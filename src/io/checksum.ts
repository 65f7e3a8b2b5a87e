// Checksums used by our file formats: CRC-32 (PNG chunks, checkpoints) and Adler-32 (zlib streams).

/** The CRC-32 table for the reflected polynomial 0xEDB88320 (ISO 3309, as PNG and zlib use it). */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * Update a running CRC-32 with `bytes`. Start with `crc32(bytes)`, continue with
 * `crc32(more, previous)`: crc32(a ++ b) = crc32(b, crc32(a)).
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Adler-32 (RFC 1950): a = 1 + Σ bytes, b = Σ a, both mod 65521; the checksum is b·2^16 + a. */
export function adler32(bytes: Uint8Array): number {
  const MOD = 65521;
  let a = 1,
    b = 0;
  // 5552 is the largest run for which b cannot exceed 2^53 before the modulo (zlib uses it for 2^32).
  for (let start = 0; start < bytes.length; start += 5552) {
    const end = Math.min(start + 5552, bytes.length);
    for (let i = start; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
