// File formats that run anywhere (browser-safe). Files on disk: src/io/node.ts (Node only).
export {
  MAX_HEADER_BYTES, parseSafetensors, serializeSafetensors, planSafetensors, joinPlan, parseHeader, readHeaderLength, decodeTensor, halfToNumber,
  type Safetensors, type SafetensorsDType, type SafetensorsEntry, type SafetensorsHeader, type SafetensorsPlan, type ParseOptions,
} from "./safetensors.js";
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, parseCheckpoint, planCheckpoint, serializeCheckpoint, type Checkpoint, type LoadedCheckpoint } from "./checkpoint.js";
export { encodePng, zlibStored, type PngOptions, type RasterImage } from "./png.js";
export { Canvas, PALETTE, imageGrid, imageGridPng, lineChart, lineChartPng, niceTicks, formatTick, heatmap, heatmapPng, viridis, type HeatmapOptions, type ImageGridOptions, type LineChartOptions, type Series, type Rgb } from "./chart.js";
export { crc32, adler32 } from "./checksum.js";
export { encodeWav, decodeWav, WAV_LIMITS, type Wav } from "./wav.js";
export type { Json } from "./json.js";
