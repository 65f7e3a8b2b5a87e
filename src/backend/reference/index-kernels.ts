// Reference indexing kernels. SCAFFOLD: being written in this session; every kernel below still throws.

import type { IndexKernels } from "../backend.js";

const todo = (name: string) => (): never => {
  throw new Error(`reference kernel ${name} is not written yet`);
};

export const index: IndexKernels = { gather: todo("gather"), scatterAdd: todo("scatterAdd"), indexSelect: todo("indexSelect"), indexAdd: todo("indexAdd") };
