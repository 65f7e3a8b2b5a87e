// Command-line options: a table of typed options per command, parsed strictly. `--name value` and
// `--name=value` both work, and `--n-layer` is read as `--n_layer`. A problem (an unknown option, a
// missing or malformed value, a stray argument) is a UsageError, which wnn.ts prints with a pointer to
// the command's --help and turns into exit code 2.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type OptionKind = "int" | "number" | "string" | "flag";

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly help: string;
  /** the value when the option is not given (none: undefined) */
  readonly default?: number | string | boolean;
  /** the smallest value allowed (numbers) */
  readonly min?: number;
  /** the largest value allowed (numbers) */
  readonly max?: number;
  /** the value must be larger than min, not equal to it */
  readonly exclusiveMin?: boolean;
  /** the allowed values (strings) */
  readonly choices?: readonly string[];
  /** the value's name in the help ("DIR", "N") */
  readonly metavar?: string;
  /** other names of the same option (one vocabulary across commands: `--steps` for `--iters`) */
  readonly aliases?: readonly string[];
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S["kind"] extends "flag" ? boolean : S["kind"] extends "string" ? string : number;

/** The parsed values: every option with a default has a value; the rest may be undefined. */
export type Values<S extends OptionSpecs> = {
  -readonly [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

export interface Parsed<S extends OptionSpecs> {
  values: Values<S>;
  /** the options the user gave explicitly */
  given: Set<keyof S & string>;
  /** --help / -h was given */
  help: boolean;
}

/** Parse `args` against `specs`; `command` names the command in error messages ("train gpt"). */
export function parseOptions<S extends OptionSpecs>(command: string, args: readonly string[], specs: S): Parsed<S> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs))
    values[name] = spec.kind === "flag" ? (spec.default ?? false) : spec.default;
  const given = new Set<string>();
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      throw new UsageError(
        `${command}: unexpected argument ${JSON.stringify(arg)}${arg.startsWith("-") ? "" : " (options start with --)"}`,
      );
    }
    const eq = arg.indexOf("=");
    const rawName = arg.slice(2, eq < 0 ? undefined : eq);
    const spelled = rawName.replace(/-/g, "_");
    const name = Object.prototype.hasOwnProperty.call(specs, spelled)
      ? spelled
      : (Object.entries(specs).find(([, s]) => s.aliases?.includes(spelled))?.[0] ?? spelled);
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (spec === undefined) {
      const near = closest(name, Object.keys(specs));
      throw new UsageError(`${command}: unknown option --${rawName}${near ? ` (did you mean --${near}?)` : ""}`);
    }
    if (given.has(name)) throw new UsageError(`${command}: --${name} is given twice`);
    given.add(name);
    if (spec.kind === "flag") {
      if (eq >= 0) throw new UsageError(`${command}: --${name} is a flag and takes no value`);
      values[name] = true;
      continue;
    }
    let text: string;
    if (eq >= 0) text = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2))
        throw new UsageError(`${command}: --${name} needs a value (${describe(spec)})`);
      text = next;
      i++;
    }
    values[name] = convert(command, name, text, spec);
  }
  return { values: values as Values<S>, given: given as Set<keyof S & string>, help };
}

function convert(command: string, name: string, text: string, spec: OptionSpec): number | string {
  const bad = (why: string): never => {
    throw new UsageError(`${command}: --${name} ${why}, got ${JSON.stringify(text)}`);
  };
  if (spec.kind === "string") {
    if (spec.choices && !spec.choices.includes(text)) bad(`must be one of ${spec.choices.join(", ")}`);
    if (text.length === 0) bad("must not be empty");
    return text;
  }
  // decimal only: Number() would also read "0x10" as 16, and "0b11", " 16 ", "Infinity"
  const decimal = spec.kind === "int" ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  if (/^\s*[+-]?0[xob]/i.test(text)) bad("must be written in decimal digits (not hexadecimal, octal or binary)");
  const n = decimal.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) bad(`must be ${spec.kind === "int" ? "an integer" : "a number"}`);
  if (spec.kind === "int" && !Number.isSafeInteger(n)) bad("must be an integer");
  if (spec.min !== undefined && (n < spec.min || (spec.exclusiveMin && n === spec.min)))
    bad(`must be ${spec.exclusiveMin ? ">" : "≥"} ${spec.min}`);
  if (spec.max !== undefined && n > spec.max) bad(`must be ≤ ${spec.max}`);
  return n;
}

function describe(spec: OptionSpec): string {
  if (spec.choices) return `one of ${spec.choices.join(", ")}`;
  return spec.kind === "int" ? "an integer" : spec.kind === "number" ? "a number" : (spec.metavar ?? "a value");
}

/** The option name within edit distance 2 of `name`, if one is. */
function closest(name: string, names: string[]): string | null {
  let best: string | null = null,
    bestD = 3;
  for (const n of names) {
    const d = editDistance(name, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** An option's range in words: "1 to 128", "at least 0", "above 0". */
function bounds(s: OptionSpec): string {
  const n = (x: number): string => (Math.abs(x) >= 1e5 && Number.isInteger(x) ? x.toLocaleString("en-US") : String(x));
  if (s.min !== undefined && s.max !== undefined)
    return `${s.exclusiveMin ? "above " + n(s.min) + ", up to" : n(s.min) + " to"} ${n(s.max)}`;
  if (s.min !== undefined) return `${s.exclusiveMin ? "above" : "at least"} ${n(s.min)}`;
  if (s.max !== undefined) return `at most ${n(s.max)}`;
  return "";
}

/** The help of a command: usage line, what it does, its options with their defaults. */
export function helpText(usage: string, about: string, specs: OptionSpecs, footer = ""): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `--${name}${s.kind === "flag" ? "" : ` ${s.metavar ?? (s.kind === "int" ? "N" : s.kind === "number" ? "X" : s.choices ? s.choices.join("|") : "S")}`}`;
    const range = s.kind === "int" || s.kind === "number" ? bounds(s) : "";
    const def =
      (s.default !== undefined && s.kind !== "flag" ? ` (default ${s.default})` : "") + (range ? ` [${range}]` : "");
    const also = s.aliases?.length ? ` (also ${s.aliases.map((a) => `--${a}`).join(", ")})` : "";
    return [left, s.help + def + also] as const;
  });
  rows.push(["--help", "show this help"]);
  const w = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = rows.map(([l, r]) => `  ${l.padEnd(w)}${r}`);
  return `usage: ${usage}\n\n${about}\n\noptions:\n${lines.join("\n")}${footer ? `\n\n${footer}` : ""}\n`;
}
