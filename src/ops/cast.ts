// dtype conversion as an op (differentiable between float dtypes): x.to("float64"), x.float(), ...

import { checkDType, type DType } from "../engine/dtype.js";
import { Tensor } from "../engine/tensor.js";
import { toDType } from "./util.js";

export function to(x: Tensor, dtype: DType): Tensor {
  return toDType(x, checkDType("to", dtype));
}

declare module "../engine/tensor.js" {
  interface Tensor {
    /** the same values in another dtype (PyTorch's `x.to(dtype)`) */
    to(dtype: DType): Tensor;
    float(): Tensor;
    double(): Tensor;
    int(): Tensor;
    bool(): Tensor;
  }
}

Tensor.prototype.to = function (d) {
  return to(this, d);
};
Tensor.prototype.float = function () {
  return to(this, "float32");
};
Tensor.prototype.double = function () {
  return to(this, "float64");
};
Tensor.prototype.int = function () {
  return to(this, "int32");
};
Tensor.prototype.bool = function () {
  return to(this, "bool");
};
