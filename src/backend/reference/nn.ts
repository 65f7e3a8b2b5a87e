// Reference nn kernels. SCAFFOLD: being written in this session; every kernel below still throws.

import type { NnKernels } from "../backend.js";

const todo = (name: string) => (): never => {
  throw new Error(`reference kernel ${name} is not written yet`);
};

export const nn: NnKernels = new Proxy({} as NnKernels, { get: (_t, name) => todo(String(name)) });
