// Parameter names: ours are PyTorch's in camelCase, one dotted component at a time
// ("blocks.0.attn.in_proj_weight" ↔ "blocks.0.attn.inProjWeight", "bn.running_mean" ↔ "bn.runningMean"),
// so a PyTorch state dict of the same architecture loads after mapping its keys with fromTorchName.

/** "out_proj.weight" → "outProj.weight", "num_batches_tracked" → "numBatchesTracked". */
export function fromTorchName(name: string): string {
  return name
    .split(".")
    .map((part) => part.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
    .join(".");
}

/** "outProj.weight" → "out_proj.weight" (the inverse of fromTorchName for names without digits after "_"). */
export function toTorchName(name: string): string {
  return name
    .split(".")
    .map((part) => part.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))
    .join(".");
}
