// File formats that run anywhere (browser-safe). Files on disk: src/io/node.ts (Node only).
export {
  MAX_HEADER_BYTES,
  parseSafetensors,
  serializeSafetensors,
  planSafetensors,
  joinPlan,
  parseHeader,
  readHeaderLength,
  decodeTensor,
  halfToNumber,
  type Safetensors,
  type SafetensorsDType,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsPlan,
  type ParseOptions,
} from "./safetensors.js";
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  parseCheckpoint,
  planCheckpoint,
  serializeCheckpoint,
  type Checkpoint,
  type LoadedCheckpoint,
} from "./checkpoint.js";
export { encodePng, zlibStored, type PngOptions, type RasterImage } from "./png.js";
export {
  Canvas,
  PALETTE,
  imageGrid,
  imageGridPng,
  lineChart,
  lineChartPng,
  niceTicks,
  formatTick,
  heatmap,
  heatmapPng,
  viridis,
  type HeatmapOptions,
  type ImageGridOptions,
  type LineChartOptions,
  type Series,
  type Rgb,
} from "./chart.js";
export { crc32, adler32 } from "./checksum.js";
export { encodeWav, decodeWav, WAV_LIMITS, type Wav } from "./wav.js";
export type { Json } from "./json.js";
export {
  GGML_TYPES,
  GGML_TYPE_NAMES,
  QK_K,
  quantize,
  dequantize,
  rowBytes,
  fp32ToFp16,
  fp16ToFp32,
  fp32ToBf16,
  bf16ToFp32,
  type GgmlType,
  type GgmlTypeInfo,
} from "./ggml/quants.js";
export {
  GgufError,
  parseGguf,
  serializeGguf,
  tensorBytes,
  metaNumber,
  metaString,
  metaArray,
  type Gguf,
  type GgufEntry,
  type GgufValue,
  type GgufValueType,
  type GgufArray,
  type GgufTensorInfo,
  type GgufTensorData,
} from "./ggml/gguf.js";
export {
  toGguf,
  fromGguf,
  permuteRotary,
  type GgufModelConfig,
  type GgufTokenizer,
  type GgufModel,
} from "./ggml/convert.js";
export { qmatmul, quantizeActivations } from "./ggml/qmatmul.js";
export { QuantLinear } from "./ggml/qlinear.js";
