// A strict JSON parser for headers of untrusted files (safetensors). JSON.parse would do, except that
// it silently keeps the last of two equal keys, so a file naming the same tensor twice would load as
// something other than what it says. This parser reports duplicate keys, limits nesting depth, and
// builds objects without prototypes (a key "__proto__" is an ordinary key). Grammar: RFC 8259.
// `maxMembers` caps the members of any one object or array, so a count is refused as soon as it passes.

import { LoadError } from "../engine/errors.js";

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** Parse `text` as one JSON value; throws LoadError("<what>: ...") naming the position of a problem. */
export function parseStrictJson(text: string, what: string, maxDepth = 64, maxMembers = Infinity): Json {
  let i = 0;
  const fail = (msg: string): never => {
    throw new LoadError(`${what}: ${msg} at character ${i}`);
  };
  const skipSpace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const expect = (s: string): void => {
    if (text.startsWith(s, i)) i += s.length;
    else fail(`invalid JSON: expected ${s}`);
  };

  const parseString = (): string => {
    i++; // the opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("invalid JSON: unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break; // "
      if (c < 0x20) fail("invalid JSON: control character in a string");
      if (c !== 0x5c) {
        // not a backslash
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      const simple: Record<string, string> = {
        '"': '"',
        "\\": "\\",
        "/": "/",
        b: "\b",
        f: "\f",
        n: "\n",
        r: "\r",
        t: "\t",
      };
      if (e !== undefined && e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid JSON: bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        fail("invalid JSON: bad escape");
      }
      start = i;
    }
    out += text.slice(start, i);
    i++; // the closing quote
    return out;
  };

  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const parseNumber = (): number => {
    // a plain integer of at most 15 digits (shapes and offsets: nearly every number of a header) read in place;
    // anything else (a sign, a fraction, an exponent, a leading zero) by the grammar's expression
    let n = 0,
      k = i;
    for (let c = text.charCodeAt(k); c >= 0x30 && c <= 0x39 && k - i < 16; c = text.charCodeAt(++k))
      n = n * 10 + (c - 0x30);
    const next = text.charCodeAt(k);
    if (
      k > i &&
      k - i <= 15 &&
      (text.charCodeAt(i) !== 0x30 || k === i + 1) &&
      next !== 0x2e &&
      next !== 0x65 &&
      next !== 0x45
    ) {
      i = k;
      return n;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null || m[0].length === 0) return fail("invalid JSON: unexpected character");
    i += m[0].length;
    return Number(m[0]);
  };

  const parseValue = (depth: number): Json => {
    if (depth > maxDepth) fail(`JSON nested deeper than ${maxDepth} levels`);
    skipSpace();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = Object.create(null) as JsonObject;
      let members = 0;
      skipSpace();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail("invalid JSON: expected a string key");
        const key = parseString();
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate key ${JSON.stringify(key).slice(0, 200)}`);
        if (++members > maxMembers) fail(`an object with more than ${maxMembers.toLocaleString("en-US")} members`);
        skipSpace();
        expect(":");
        obj[key] = parseValue(depth + 1);
        skipSpace();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return obj;
        } else fail("invalid JSON: expected , or }");
      }
    }
    if (c === "[") {
      i++;
      const arr: Json[] = [];
      skipSpace();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        if (arr.length >= maxMembers) fail(`an array with more than ${maxMembers.toLocaleString("en-US")} items`);
        arr.push(parseValue(depth + 1));
        skipSpace();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return arr;
        } else fail("invalid JSON: expected , or ]");
      }
    }
    if (c === '"') return parseString();
    if (c === "t") return (expect("true"), true);
    if (c === "f") return (expect("false"), false);
    if (c === "n") return (expect("null"), null);
    if (c === undefined) return fail("invalid JSON: unexpected end");
    return parseNumber();
  };

  const value = parseValue(0);
  skipSpace();
  if (i !== text.length) fail("invalid JSON: unexpected text after the value");
  return value;
}

export function isJsonObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
