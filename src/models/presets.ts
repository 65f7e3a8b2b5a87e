// The one lookup of a model's named config presets, with the one message for a name that is not one of them.
// Each model.ts keeps its PRESETS table and its own checks of the values; the lookup is written once here.
// Browser-safe.

import { ArgumentError } from "../engine/errors.js";

/** The preset called `name` of `presets`, or an ArgumentError naming the config (`what`) and listing the presets. */
export function presetOf<C>(what: string, presets: Readonly<Record<string, C>>, name: string): C {
  const p = Object.prototype.hasOwnProperty.call(presets, name) ? presets[name] : undefined;
  if (!p)
    throw new ArgumentError(`${what}: unknown preset "${name}"; the presets are ${Object.keys(presets).join(", ")}`);
  return p;
}
