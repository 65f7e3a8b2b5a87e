// A linear-time regular-expression matcher for the patterns of tokenizer.json files (Replace
// normalizers and decoders). A pattern in a file is untrusted code: JavaScript's RegExp backtracks, and
// `^(a+)+$` against 34 × "a" + "!" runs for minutes. This is Thompson's construction run as Pike's VM
// (Russ Cox, "Regular Expression Matching: the Virtual Machine Approach", 2009): the pattern becomes a
// small program; all threads advance together over the text, one character at a time, and a thread
// that reaches an instruction another thread already reached at this position is dropped. So the work
// is at most (text length) × (program size), whatever the pattern.
//
// The threads are kept in priority order (the order a backtracking engine would try them), so the
// match found is the one JavaScript's RegExp finds: the leftmost, then the first by the greedy/lazy
// preferences. The text is read by code point, as RegExp does with the "u" flag.
//
// Supported, the subset tokenizer files use:
//   literals and escapes  a \. \n \r \t \f \v \0 \xHH \uHHHH \u{H…}
//   classes               . [abc] [^a-z] \d \D \w \W \s \S \p{L} \P{N} \p{Script=Han} (JavaScript's meanings)
//   groups                (…) (?:…) (?<name>…) (?i:…) (case-insensitive inside)
//   alternation           a|b
//   quantifiers           * + ? {n} {n,} {n,m} and their lazy forms *? +? ?? {n,m}?
//   assertions            ^ $ (of the whole text) \b \B, and a lookahead of one character: (?=x) (?!\S)
// Refused with an ArgumentError naming the pattern and the position: backreferences, lookbehind,
// lookaheads longer than one character, atomic and possessive groups, and anything unknown.
//
// Caps, so that the program itself stays small: a pattern of at most MAX_PATTERN characters, groups
// nested at most MAX_GROUP_DEPTH deep, counted repetitions at most MAX_REPEAT, a program of at most
// MAX_PROGRAM instructions.

import { ArgumentError } from "../engine/errors.js";

export const MAX_PATTERN = 10_000;
export const MAX_GROUP_DEPTH = 100;
export const MAX_REPEAT = 1_000;
export const MAX_PROGRAM = 100_000;

type CharTest = (cp: number) => boolean;

type Node =
  | { t: "char"; test: CharTest }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; alts: Node[] }
  | { t: "rep"; node: Node; min: number; max: number; greedy: boolean }
  | { t: "assert"; kind: "^" | "$" | "b" | "B" }
  | { t: "look"; test: CharTest; negate: boolean };

// ---------------------------------------------------------------------------------------------------
// Character tests

const oneChar =
  (re: RegExp): CharTest =>
  (cp) =>
    re.test(String.fromCodePoint(cp));
const DIGIT: CharTest = (cp) => cp >= 0x30 && cp <= 0x39;
const WORD: CharTest = (cp) =>
  (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f;
const SPACE: CharTest = oneChar(/^\s$/u);
const LINE_END: CharTest = (cp) => cp === 0x0a || cp === 0x0d || cp === 0x2028 || cp === 0x2029;
const not =
  (f: CharTest): CharTest =>
  (cp) =>
    !f(cp);
const caseless =
  (f: CharTest): CharTest =>
  (cp) => {
    if (f(cp)) return true;
    const s = String.fromCodePoint(cp),
      lo = s.toLowerCase(),
      up = s.toUpperCase();
    return (lo.length === s.length && f(lo.codePointAt(0)!)) || (up.length === s.length && f(up.codePointAt(0)!));
  };

const properties = new Map<string, CharTest>();
/** \p{Name}: JavaScript's own one-character test, built from a checked name (letters, _, one =). */
function property(name: string, fail: (msg: string) => never): CharTest {
  let test = properties.get(name);
  if (test === undefined) {
    if (!/^[A-Za-z_]{1,40}(=[A-Za-z_]{1,40})?$/.test(name)) fail(`unknown Unicode property ${JSON.stringify(name)}`);
    let re: RegExp;
    try {
      re = new RegExp(`^\\p{${name}}$`, "u");
    } catch {
      return fail(`unknown Unicode property ${JSON.stringify(name)}`);
    }
    test = oneChar(re);
    properties.set(name, test);
  }
  return test;
}

// ---------------------------------------------------------------------------------------------------
// Parsing: pattern → tree

function parse(pattern: string): Node {
  let i = 0;
  const fail = (msg: string): never => {
    throw new ArgumentError(
      `regex ${JSON.stringify(pattern.length > 200 ? pattern.slice(0, 200) + "…" : pattern)}: ${msg} at position ${i}`,
    );
  };
  if (pattern.length > MAX_PATTERN) fail(`longer than ${MAX_PATTERN} characters`);
  const peek = (): string | undefined => pattern[i];
  const cp = (): number => {
    const c = pattern.codePointAt(i);
    if (c === undefined) fail("unexpected end");
    i += c! > 0xffff ? 2 : 1;
    return c!;
  };

  const hex = (n: number): number => {
    const h = pattern.slice(i, i + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) fail("bad hexadecimal escape");
    i += n;
    return parseInt(h, 16);
  };

  /** After a backslash: a CharTest, or a literal code point. `inClass`: inside […]. */
  const escape = (inClass: boolean): CharTest | number => {
    const c = pattern[i++];
    switch (c) {
      case undefined:
        return fail("a pattern cannot end with \\");
      case "d":
        return DIGIT;
      case "D":
        return not(DIGIT);
      case "w":
        return WORD;
      case "W":
        return not(WORD);
      case "s":
        return SPACE;
      case "S":
        return not(SPACE);
      case "p":
      case "P": {
        if (pattern[i] !== "{") fail(`\\${c} needs {Name}`);
        const end = pattern.indexOf("}", i);
        if (end < 0) fail(`\\${c}{ is not closed`);
        const name = pattern.slice(i + 1, end);
        i = end + 1;
        const test = property(name, fail);
        return c === "p" ? test : not(test);
      }
      case "n":
        return 0x0a;
      case "r":
        return 0x0d;
      case "t":
        return 0x09;
      case "f":
        return 0x0c;
      case "v":
        return 0x0b;
      case "0":
        return 0;
      case "x":
        return hex(2);
      case "u":
        if (pattern[i] === "{") {
          const end = pattern.indexOf("}", i);
          if (end < 0 || end - i > 7) fail("bad \\u{…} escape");
          const v = parseInt(pattern.slice(i + 1, end), 16);
          if (!/^[0-9a-fA-F]+$/.test(pattern.slice(i + 1, end)) || v > 0x10ffff) fail("bad \\u{…} escape");
          i = end + 1;
          return v;
        }
        return hex(4);
      case "b":
        if (inClass) return 0x08;
        return fail("internal: \\b handled by the caller");
      default:
        if (/[1-9]/.test(c)) return fail("backreferences are not supported (they cannot be matched in linear time)");
        if (c === "k") return fail("named backreferences are not supported (they cannot be matched in linear time)");
        if (/[A-Za-z]/.test(c)) return fail(`unknown escape \\${c}`);
        return c.codePointAt(0)!; // an escaped punctuation character: itself
    }
  };

  /** […], the opening bracket already read. */
  const bracket = (): CharTest => {
    const negate = peek() === "^";
    if (negate) i++;
    const items: CharTest[] = [];
    let first = true;
    for (;;) {
      if (i >= pattern.length) fail("[ is not closed");
      if (peek() === "]" && !first) {
        i++;
        break;
      }
      first = false;
      const atom = (): CharTest | number => (peek() === "\\" ? (i++, escape(true)) : cp());
      const lo = atom();
      if (peek() === "-" && pattern[i + 1] !== "]" && i + 1 < pattern.length) {
        i++;
        const hi = atom();
        if (typeof lo !== "number" || typeof hi !== "number") fail("a range needs single characters at both ends");
        if ((hi as number) < (lo as number)) fail("a range out of order");
        const [a, b] = [lo as number, hi as number];
        items.push((c) => c >= a && c <= b);
      } else items.push(typeof lo === "number" ? (c) => c === lo : lo);
    }
    const any: CharTest = (c) => items.some((f) => f(c));
    return negate ? not(any) : any;
  };

  const alternation = (depth: number, ci: boolean): Node => {
    const alts: Node[] = [sequence(depth, ci)];
    while (peek() === "|") {
      i++;
      alts.push(sequence(depth, ci));
    }
    return alts.length === 1 ? alts[0]! : { t: "alt", alts };
  };

  const sequence = (depth: number, ci: boolean): Node => {
    const items: Node[] = [];
    while (i < pattern.length && peek() !== "|" && peek() !== ")") {
      let atom = term(depth, ci);
      atom = quantified(atom);
      items.push(atom);
    }
    return { t: "cat", items };
  };

  const charNode = (test: CharTest, ci: boolean): Node => ({ t: "char", test: ci ? caseless(test) : test });

  const term = (depth: number, ci: boolean): Node => {
    const c = peek()!;
    if (c === "(") {
      if (depth >= MAX_GROUP_DEPTH) fail(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
      i++;
      let inner = ci;
      if (peek() === "?") {
        const rest = pattern.slice(i, i + 4);
        if (rest.startsWith("?:")) i += 2;
        else if (rest.startsWith("?i:")) {
          i += 3;
          inner = true;
        } else if (rest.startsWith("?=") || rest.startsWith("?!")) {
          const negate = rest[1] === "!";
          i += 2;
          const body = alternation(depth + 1, ci);
          if (peek() !== ")") fail("( is not closed");
          i++;
          if (body.t === "cat" && body.items.length === 1 && body.items[0]!.t === "char")
            return { t: "look", test: body.items[0]!.test, negate };
          return fail("a lookahead may hold one character or class only (a longer one is not supported)");
        } else if (rest.startsWith("?<=") || rest.startsWith("?<!")) return fail("lookbehind is not supported");
        else if (rest.startsWith("?<")) {
          const end = pattern.indexOf(">", i);
          if (end < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(pattern.slice(i + 2, end))) fail("bad group name");
          i = end + 1;
        } else if (rest.startsWith("?>")) return fail("atomic groups are not supported");
        else return fail(`unknown group (${rest})`);
      }
      const body = alternation(depth + 1, inner);
      if (peek() !== ")") fail("( is not closed");
      i++;
      return body;
    }
    if (c === ")") fail("unmatched )");
    if (c === "*" || c === "+" || c === "?" || c === "{") {
      if (c === "{" && !/^\{\d+(,\d*)?\}/.test(pattern.slice(i))) {
        i++;
        return charNode((x) => x === 0x7b, ci); // a literal { (as RegExp reads it without the u flag, and Oniguruma does)
      }
      fail(`nothing to repeat before ${c}`);
    }
    i++;
    if (c === ".") return { t: "char", test: not(LINE_END) };
    if (c === "^") return { t: "assert", kind: "^" };
    if (c === "$") return { t: "assert", kind: "$" };
    if (c === "[") return charNode(bracket(), ci);
    if (c === "\\") {
      if (peek() === "b" || peek() === "B") return { t: "assert", kind: pattern[i++] as "b" | "B" };
      const e = escape(false);
      return charNode(typeof e === "number" ? (x) => x === e : e, ci);
    }
    i--;
    const lit = cp();
    return charNode((x) => x === lit, ci);
  };

  const quantified = (atom: Node): Node => {
    for (;;) {
      const c = peek();
      let min: number, max: number;
      if (c === "*") [min, max] = [0, Infinity];
      else if (c === "+") [min, max] = [1, Infinity];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (!m) return atom;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) fail(`a count above ${MAX_REPEAT}`);
        if (max < min) fail("a count {n,m} with m < n");
        i += m[0].length - 1;
      } else return atom;
      i++;
      let greedy = true;
      if (peek() === "?") {
        greedy = false;
        i++;
      } else if (peek() === "+") fail("possessive quantifiers are not supported");
      if (atom.t === "assert" || atom.t === "look") fail("nothing to repeat");
      if (atom.t === "rep") fail("a quantifier after a quantifier");
      atom = { t: "rep", node: atom, min, max, greedy };
    }
  };

  const tree = alternation(0, false);
  if (i < pattern.length) fail(peek() === ")" ? "unmatched )" : "unexpected character");
  return tree;
}

// ---------------------------------------------------------------------------------------------------
// Compiling: tree → program (Pike VM instructions)

type Inst =
  | { op: "char"; test: CharTest }
  | { op: "split"; x: number; y: number } // try x first, then y
  | { op: "jmp"; x: number }
  | { op: "assert"; kind: "^" | "$" | "b" | "B" }
  | { op: "look"; test: CharTest; negate: boolean }
  | { op: "match" };

function compile(tree: Node, pattern: string): Inst[] {
  const prog: Inst[] = [];
  const emit = (inst: Inst): number => {
    if (prog.length >= MAX_PROGRAM)
      throw new ArgumentError(
        `regex ${JSON.stringify(pattern.slice(0, 200))}: compiles to more than ${MAX_PROGRAM} instructions`,
      );
    prog.push(inst);
    return prog.length - 1;
  };
  const gen = (n: Node): void => {
    switch (n.t) {
      case "char":
        emit({ op: "char", test: n.test });
        return;
      case "assert":
        emit({ op: "assert", kind: n.kind });
        return;
      case "look":
        emit({ op: "look", test: n.test, negate: n.negate });
        return;
      case "cat":
        for (const item of n.items) gen(item);
        return;
      case "alt": {
        // split L1, next; L1: a; jmp end; next: split L2, ... ; last alternative
        const jumps: number[] = [];
        n.alts.forEach((alt, k) => {
          if (k < n.alts.length - 1) {
            const split = emit({ op: "split", x: 0, y: 0 });
            (prog[split] as { x: number }).x = prog.length;
            gen(alt);
            jumps.push(emit({ op: "jmp", x: 0 }));
            (prog[split] as { y: number }).y = prog.length;
          } else gen(alt);
        });
        for (const j of jumps) (prog[j] as { x: number }).x = prog.length;
        return;
      }
      case "rep": {
        for (let k = 0; k < n.min; k++) gen(n.node);
        if (n.max === Infinity) {
          // L: split body, out (greedy) | split out, body (lazy); body; jmp L; out:
          const split = emit({ op: "split", x: 0, y: 0 });
          const body = prog.length;
          gen(n.node);
          emit({ op: "jmp", x: split });
          const out = prog.length;
          prog[split] = n.greedy ? { op: "split", x: body, y: out } : { op: "split", x: out, y: body };
        } else {
          // (max − min) optional copies, each skipping to the end
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            splits.push(emit({ op: "split", x: 0, y: 0 }));
            gen(n.node);
          }
          const out = prog.length;
          for (const s of splits)
            prog[s] = n.greedy ? { op: "split", x: s + 1, y: out } : { op: "split", x: out, y: s + 1 };
        }
        return;
      }
    }
  };
  gen(tree);
  emit({ op: "match" });
  return prog;
}

// ---------------------------------------------------------------------------------------------------
// Matching

/** A compiled pattern; `exec` and `replaceAll` take time linear in the text (times the program size). */
export class LinearRegex {
  private readonly prog: Inst[];
  /** the position each instruction was last added at (one thread per instruction per position) */
  private readonly mark: Int32Array;

  constructor(readonly source: string) {
    if (typeof source !== "string")
      throw new ArgumentError(`regex: the pattern must be a string, got ${typeof source}`);
    this.prog = compile(parse(source), source);
    this.mark = new Int32Array(this.prog.length);
  }

  /** The first match at or after `from` (UTF-16 index) as [start, end), or null. */
  exec(text: string, from = 0): [number, number] | null {
    const prog = this.prog,
      mark = this.mark;
    mark.fill(-1);
    let clist: { pc: number; start: number }[] = [],
      nlist: { pc: number; start: number }[] = [];
    let matched: [number, number] | null = null;
    const stack: number[] = [];

    const isWord = (at: number): boolean => at >= 0 && at < text.length && WORD(text.charCodeAt(at));
    /** Add the thread at `pc` (and what it reaches without reading a character) to `list`, in priority order. */
    const add = (list: { pc: number; start: number }[], pc0: number, start: number, pos: number): void => {
      stack.push(pc0);
      while (stack.length) {
        const pc = stack.pop()!;
        if (mark[pc] === pos) continue;
        mark[pc] = pos;
        const inst = prog[pc]!;
        switch (inst.op) {
          case "jmp":
            stack.push(inst.x);
            break;
          case "split":
            stack.push(inst.y, inst.x);
            break; // x on top: tried first
          case "assert": {
            const ok =
              inst.kind === "^"
                ? pos === 0
                : inst.kind === "$"
                  ? pos === text.length
                  : (isWord(pos - 1) !== isWord(pos)) === (inst.kind === "b");
            if (ok) stack.push(pc + 1);
            break;
          }
          case "look": {
            const next = text.codePointAt(pos);
            const hit = next !== undefined && inst.test(next);
            if (hit !== inst.negate) stack.push(pc + 1);
            break;
          }
          default:
            list.push({ pc, start });
        }
      }
    };

    // mark[] holds the position an instruction was added at, and positions only grow: one thread per
    // instruction per position
    for (let pos = from; ;) {
      if (matched === null) add(clist, 0, pos, pos); // a new thread starting here, lowest priority
      if (clist.length === 0 && matched !== null) break;
      const c = pos < text.length ? text.codePointAt(pos)! : -1;
      const next = pos + (c > 0xffff ? 2 : 1);
      for (const th of clist) {
        const inst = prog[th.pc]!;
        if (inst.op === "match") {
          matched = [th.start, pos];
          break; // the threads after it have lower priority: cut off
        }
        if (inst.op === "char" && c >= 0 && inst.test(c)) add(nlist, th.pc + 1, th.start, next);
      }
      if (c < 0) break; // the end of the text
      [clist, nlist] = [nlist, clist];
      nlist.length = 0;
      pos = next;
    }
    return matched;
  }

  /** Every match replaced by `content` (taken literally), as String.prototype.replace with a global "u" RegExp. */
  replaceAll(text: string, content: string): string {
    let out = "",
      last = 0,
      from = 0;
    while (from <= text.length) {
      const m = this.exec(text, from);
      if (m === null) break;
      out += text.slice(last, m[0]) + content;
      last = m[1];
      if (m[1] > m[0]) from = m[1];
      else {
        // an empty match: step over one code point
        const c = text.codePointAt(m[1]);
        from = m[1] + (c !== undefined && c > 0xffff ? 2 : 1);
      }
    }
    return out + text.slice(last);
  }
}
