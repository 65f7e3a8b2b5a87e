// The one way a model builds its config: look up a named preset (`presetOf`), apply the overrides, and check the
// values against the model's declared rules (`configOf`), each kind of rule with one message written once here.
// Each model.ts keeps its PRESETS table and declares its rules; what no rule kind covers (a paper's own
// constraint) it states in `also`. Browser-safe.

import { ArgumentError } from "../engine/errors.js";

/** The preset called `name` of `presets`, or an ArgumentError naming the config (`what`) and listing the presets. */
export function presetOf<C>(what: string, presets: Readonly<Record<string, C>>, name: string): C {
  const p = Object.prototype.hasOwnProperty.call(presets, name) ? presets[name] : undefined;
  if (!p)
    throw new ArgumentError(`${what}: unknown preset "${name}"; the presets are ${Object.keys(presets).join(", ")}`);
  return p;
}

type Keys<C> = readonly (keyof C & string)[];

/** What a config's values must be; every list names fields of the config. */
export interface ConfigRules<C> {
  /** integers ≥ 1 (sizes, counts of layers and heads) */
  readonly positive?: Keys<C>;
  /** integers in [1, 65536]: widths and kernels bounded so a config from a file cannot ask for gigabytes */
  readonly sizes?: Keys<C>;
  /** integers ≥ 0 */
  readonly counts?: Keys<C>;
  /** numbers in [0, 1): dropout rates */
  readonly probabilities?: Keys<C>;
  /** finite numbers > 0: ε, θ, standard deviations */
  readonly positiveNumbers?: Keys<C>;
  /** numbers ≥ 0: loss coefficients, slopes */
  readonly nonNegative?: Keys<C>;
  /** true or false */
  readonly flags?: Keys<C>;
  /** token ids in [0, vocabSize) */
  readonly tokenIds?: Keys<C>;
  /** [a, b]: a is a multiple of b (the model width of the heads, ...) */
  readonly multiples?: readonly (readonly [keyof C & string, keyof C & string])[];
  /** a field and the values it may take */
  readonly oneOf?: { readonly [K in keyof C]?: readonly C[K][] };
  /** the paper's own constraints: the message of the first one broken, or undefined */
  readonly also?: (c: C) => string | undefined;
}

/**
 * The config `base` (a preset's name or a config) with `overrides` applied, checked against `rules`, frozen:
 * `configOf("GPTConfig", PRESETS, "tiny", { vocabSize: 65 }, GPT_RULES)`. A broken rule is an ArgumentError
 * that names the config, the field and the value.
 */
export function configOf<C extends object>(
  what: string,
  presets: Readonly<Record<string, C>>,
  base: C | string,
  overrides: Partial<C>,
  rules: ConfigRules<C>,
): C {
  const c = { ...(typeof base === "string" ? presetOf(what, presets, base) : base), ...overrides } as C;
  const v = c as Record<string, unknown>;
  const fail = (msg: string): never => {
    throw new ArgumentError(`${what}: ${msg}`);
  };
  const num = (k: string): number => v[k] as number;
  for (const k of rules.positive ?? [])
    if (!(Number.isInteger(v[k]) && num(k) >= 1)) fail(`${k} must be a positive integer, got ${String(v[k])}`);
  for (const k of rules.sizes ?? [])
    if (!(Number.isInteger(v[k]) && num(k) >= 1 && num(k) <= 65536))
      fail(`${k} must be an integer in [1, 65536], got ${String(v[k])}`);
  for (const k of rules.counts ?? [])
    if (!(Number.isInteger(v[k]) && num(k) >= 0)) fail(`${k} must be an integer ≥ 0, got ${String(v[k])}`);
  for (const [a, b] of rules.multiples ?? [])
    if (num(a) % num(b) !== 0) fail(`${a} ${String(v[a])} must be a multiple of ${b} ${String(v[b])}`);
  for (const k of rules.probabilities ?? [])
    if (!(num(k) >= 0 && num(k) < 1)) fail(`${k} must be in [0, 1), got ${String(v[k])}`);
  for (const k of rules.positiveNumbers ?? [])
    if (!(num(k) > 0 && Number.isFinite(v[k]))) fail(`${k} must be a positive number, got ${String(v[k])}`);
  for (const k of rules.nonNegative ?? []) if (!(num(k) >= 0)) fail(`${k} must be ≥ 0, got ${String(v[k])}`);
  for (const k of rules.flags ?? [])
    if (typeof v[k] !== "boolean") fail(`${k} must be true or false, got ${String(v[k])}`);
  for (const k of rules.tokenIds ?? []) {
    const V = num("vocabSize");
    if (!(Number.isInteger(v[k]) && num(k) >= 0 && num(k) < V))
      fail(`${k} must be a token id in [0, ${V}), got ${String(v[k])}`);
  }
  for (const [k, allowed] of Object.entries(rules.oneOf ?? {}) as [string, readonly unknown[]][]) {
    if (!allowed.includes(v[k]))
      fail(`${k} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(v[k])}`);
  }
  const broken = rules.also?.(c);
  if (broken !== undefined) fail(broken);
  return Object.freeze(c);
}
