// Reference attention kernels. SCAFFOLD: being written in this session; every kernel below still throws.

import type { AttentionKernels } from "../backend.js";

const todo = (name: string) => (): never => {
  throw new Error(`reference kernel ${name} is not written yet`);
};

export const attention: AttentionKernels = new Proxy({} as AttentionKernels, { get: (_t, name) => todo(String(name)) });
