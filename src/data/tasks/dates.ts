// The date task: a date written the ways people write them → the same date in ISO 8601 (YYYY-MM-DD).
//
//   "Wednesday, March 3, 2021" → "2021-03-03"      "the 3rd of march 2021" → "2021-03-03"
//   "03/03/2021"               → "2021-03-03"      "3.3.2021"              → "2021-03-03"
//
// A classic first sequence-to-sequence task: the model must find the day, month and year wherever the
// format puts them, spell the month's name as a number and pad with zeros. Dates are drawn uniformly from
// 1900-01-01 to 2099-12-31; the formats are drawn uniformly from DATE_FORMATS, month and weekday names in
// a random case (lower, Title or UPPER). Slash dates are month first (US), dot dates day first (European):
// the separator tells them apart. Everything is seeded by the Generator passed in; browser-safe.

import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";

export interface CalendarDate {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
}

export interface DatePair {
  /** the human-written date */
  source: string;
  /** YYYY-MM-DD */
  target: string;
  /** which of DATE_FORMATS wrote the source */
  format: DateFormat;
}

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** The formats, by a name that shows their shape on 3 March 2021 (a Wednesday). */
export const DATE_FORMATS = [
  "March 3, 2021",
  "3 March 2021",
  "Mar 3, 2021",
  "3 Mar 2021",
  "03/03/2021",
  "3/3/2021",
  "3.3.2021",
  "03.03.2021",
  "2021/03/03",
  "Wednesday, March 3, 2021",
  "Wed, 3 Mar 2021",
  "March 3rd, 2021",
  "3rd March 2021",
  "the 3rd of March, 2021",
  "Wednesday the 3rd of March 2021",
] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

const FIRST = Date.UTC(1900, 0, 1), LAST = Date.UTC(2099, 11, 31), DAY_MS = 86_400_000;

/** A date drawn uniformly from 1900-01-01 … 2099-12-31. */
export function randomDate(g: Generator): CalendarDate {
  const d = new Date(FIRST + g.randint(0, (LAST - FIRST) / DAY_MS + 1) * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** YYYY-MM-DD */
export function isoDate(d: CalendarDate): string {
  return `${String(d.year).padStart(4, "0")}-${pad2(d.month)}-${pad2(d.day)}`;
}

/** 1 → "1st", 2 → "2nd", 3 → "3rd", 11 → "11th", 22 → "22nd" */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** Write `d` in `format`; names in the case `nameCase` (default: Title case). */
export function formatDate(d: CalendarDate, format: DateFormat, nameCase: "lower" | "title" | "upper" = "title"): string {
  checkDate(d);
  const cased = (s: string): string => (nameCase === "lower" ? s : nameCase === "upper" ? s.toUpperCase() : s[0]!.toUpperCase() + s.slice(1));
  const month = cased(MONTHS[d.month - 1]!), mon = month.slice(0, 3);
  const weekdayName = cased(WEEKDAYS[new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay()]!), wd = weekdayName.slice(0, 3);
  const the = nameCase === "upper" ? "THE" : nameCase === "title" && format.startsWith("the") ? "The" : "the";
  const of = nameCase === "upper" ? "OF" : "of";
  const D = d.day, M = d.month, Y = d.year, th = ordinal(D);
  switch (format) {
    case "March 3, 2021": return `${month} ${D}, ${Y}`;
    case "3 March 2021": return `${D} ${month} ${Y}`;
    case "Mar 3, 2021": return `${mon} ${D}, ${Y}`;
    case "3 Mar 2021": return `${D} ${mon} ${Y}`;
    case "03/03/2021": return `${pad2(M)}/${pad2(D)}/${Y}`;
    case "3/3/2021": return `${M}/${D}/${Y}`;
    case "3.3.2021": return `${D}.${M}.${Y}`;
    case "03.03.2021": return `${pad2(D)}.${pad2(M)}.${Y}`;
    case "2021/03/03": return `${Y}/${pad2(M)}/${pad2(D)}`;
    case "Wednesday, March 3, 2021": return `${weekdayName}, ${month} ${D}, ${Y}`;
    case "Wed, 3 Mar 2021": return `${wd}, ${D} ${mon} ${Y}`;
    case "March 3rd, 2021": return `${month} ${th}, ${Y}`;
    case "3rd March 2021": return `${th} ${month} ${Y}`;
    case "the 3rd of March, 2021": return `${the} ${th} ${of} ${month}, ${Y}`;
    case "Wednesday the 3rd of March 2021": return `${weekdayName} ${the} ${th} ${of} ${month} ${Y}`;
  }
}

export interface DatePairOptions {
  /** draw from these formats only (default: all of DATE_FORMATS) */
  formats?: readonly DateFormat[];
}

/** n (human date, ISO date) pairs, seeded by g. */
export function datePairs(n: number, g: Generator, opts: DatePairOptions = {}): DatePair[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new ArgumentError(`datePairs: n must be an integer ≥ 0, got ${n}`);
  const formats = opts.formats ?? DATE_FORMATS;
  if (formats.length === 0) throw new ArgumentError("datePairs: no formats");
  for (const f of formats) if (!DATE_FORMATS.includes(f)) throw new ArgumentError(`datePairs: unknown format ${JSON.stringify(f)}`);
  const cases = ["lower", "title", "upper"] as const;
  const out: DatePair[] = [];
  for (let i = 0; i < n; i++) {
    const d = randomDate(g);
    const format = formats[g.randint(0, formats.length)]!;
    const nameCase = cases[g.randint(0, 3)]!;
    out.push({ source: formatDate(d, format, nameCase), target: isoDate(d), format });
  }
  return out;
}

/** Every character a source or target can hold, sorted: the character vocabulary of the task. */
export function dateAlphabet(): string[] {
  const chars = new Set<string>("0123456789 ,./-");
  for (const w of [...MONTHS, ...WEEKDAYS, "the", "of", "st", "nd", "rd", "th"]) for (const ch of w + w.toUpperCase()) chars.add(ch);
  return [...chars].sort();
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

function checkDate(d: CalendarDate): void {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day));
  if (!Number.isInteger(d.year) || !Number.isInteger(d.month) || !Number.isInteger(d.day) || t.getUTCFullYear() !== d.year || t.getUTCMonth() !== d.month - 1 || t.getUTCDate() !== d.day) {
    throw new ArgumentError(`formatDate: ${JSON.stringify(d)} is not a calendar date`);
  }
}
