// Data-parallel training over workers of one machine: the collectives, DDP, ZeRO-1 and ZeRO-2 (browser-safe).
// The Node launcher (worker_threads) is exported from "writtingnns/node".
export {
  Communicator,
  CollectiveError,
  chunkRange,
  createSharedBuffer,
  sharedBytes,
  ringSumReference,
  type CommunicatorOptions,
} from "./collectives.js";
export { DistributedDataParallel, clipShardedGradNorm, type DDPOptions } from "./ddp.js";
export { ZeRO1, type ZeroOptions } from "./zero1.js";
export { ZeRO2 } from "./zero2.js";
export { FullyShardedDataParallel, type FSDPOptions } from "./fsdp.js";
export { DataParallel, STRATEGIES, type StrategyName, type DataParallelOptions } from "./data-parallel.js";
