// Fine-tuning methods, one file per paper: full fine-tuning, LoRA, adapters (Houlsby / Pfeiffer),
// prefix tuning, prompt tuning, BitFit and (IA)³. Each takes a model of the zoo, freezes what the method
// freezes, and returns the model with the parameters that train.

export * from "./common.js";
export * from "./full.js";
export * from "./lora.js";
export * from "./adapter.js";
export * from "./prefix.js";
export * from "./prompt.js";
export * from "./bitfit.js";
export * from "./ia3.js";
export * from "./methods.js";
export * from "./modules-to-save.js";
export * from "./peft.js";
export * from "./memory.js";
export * from "./prefix-encoders.js";
export * from "./prompt-encoders.js";
