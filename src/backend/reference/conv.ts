// Reference conv kernels. SCAFFOLD: being written in this session; every kernel below still throws.

import type { ConvKernels } from "../backend.js";

const todo = (name: string) => (): never => {
  throw new Error(`reference kernel ${name} is not written yet`);
};

export const conv: ConvKernels = new Proxy({} as ConvKernels, { get: (_t, name) => todo(String(name)) });
