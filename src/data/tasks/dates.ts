// Dates written the ways people write them → ISO 8601 ("Tuesday, March 3, 1998" → "1998-03-03").
// A seeded, synthetic translation task for character-level seq2seq models (the classic exercise of
// Bahdanau-style attention: the decoder must find the year, the month and the day wherever the format put them).
//
// Dates are uniform over 1950-01-01 … 2049-12-31, so that a two-digit year has one reading:
// 50–99 → 19yy, 00–49 → 20yy. Every format is a template; `formatDate` writes a date through one, and
// `parseDate` reads a string back through ALL templates, so the round trip parseDate(formatDate(d, f)) =
// [d] also proves that no string is ambiguous between two formats (US slashes, European dots).
//
// Template fields: YYYY 1998, YY 98, MMMM March, MMM Mar, MM 03, M 3, DD 03, D 3, Do 3rd, dddd Tuesday,
// ddd Tue; every other character is literal. A format may ask for the whole string in lower or upper case.

import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import { SymbolVocab, type Pair, type Seq2SeqTask } from "./seq.js";

export interface DateFormat {
  readonly template: string;
  readonly case?: "lower" | "upper";
}

export const DATE_FORMATS: readonly DateFormat[] = Object.freeze([
  { template: "D MMMM YYYY" }, //                    3 March 1998
  { template: "DD MMM YYYY" }, //                    03 Mar 1998
  { template: "MMMM D, YYYY" }, //                   March 3, 1998
  { template: "dddd, MMMM D, YYYY" }, //             Tuesday, March 3, 1998
  { template: "ddd D MMM YYYY" }, //                 Tue 3 Mar 1998
  { template: "MM/DD/YY" }, //                       03/03/98       (US: month first)
  { template: "M/D/YYYY" }, //                       3/3/1998
  { template: "DD.MM.YYYY" }, //                     03.03.1998     (European: day first)
  { template: "D.M.YY" }, //                         3.3.98
  { template: "YYYY-M-D" }, //                       1998-3-3
  { template: "YYYY-MM-DD" }, //                     1998-03-03     (already ISO)
  { template: "MMM D YY", case: "lower" }, //        mar 3 98
  { template: "D MMM YY", case: "lower" }, //        3 mar 98
  { template: "MMMM D YYYY", case: "upper" }, //     MARCH 3 1998
  { template: "the Do of MMMM YYYY" }, //            the 3rd of March 1998
  { template: "YYYYMMDD" }, //                       19980303
  { template: "D-MMM-YYYY" }, //                     3-Mar-1998
  { template: "dddd D MMMM YYYY", case: "lower" }, // tuesday 3 march 1998
]);

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]; // getUTCDay order
const FIRST_DAY = Date.UTC(1950, 0, 1),
  LAST_DAY = Date.UTC(2049, 11, 31),
  DAY_MS = 86_400_000;

/** A calendar date (proleptic Gregorian, as JavaScript's Date in UTC). */
export interface CalendarDate {
  year: number;
  month: number; // 1…12
  day: number; //   1…31
}

export function isoDate(d: CalendarDate): string {
  return `${String(d.year).padStart(4, "0")}-${pad2(d.month)}-${pad2(d.day)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** 0 Sunday … 6 Saturday */
function weekday(d: CalendarDate): number {
  return new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
}

function ordinal(day: number): string {
  const suffix =
    day % 10 === 1 && day !== 11
      ? "st"
      : day % 10 === 2 && day !== 12
        ? "nd"
        : day % 10 === 3 && day !== 13
          ? "rd"
          : "th";
  return `${day}${suffix}`;
}

/** Whether y-m-d names a real day within the task's range. */
function isValid(d: CalendarDate): boolean {
  const t = Date.UTC(d.year, d.month - 1, d.day);
  const back = new Date(t);
  return (
    back.getUTCFullYear() === d.year &&
    back.getUTCMonth() === d.month - 1 &&
    back.getUTCDate() === d.day &&
    t >= FIRST_DAY &&
    t <= LAST_DAY
  );
}

// ---------------------------------------------------------------------------------------------------
// Templates: a template is cut into fields and literals once; formatting and parsing both walk the pieces.

const FIELDS = ["YYYY", "YY", "MMMM", "MMM", "MM", "M", "dddd", "ddd", "Do", "DD", "D"] as const; // longest first
type Field = (typeof FIELDS)[number];
type Piece = { field: Field } | { literal: string };

function pieces(template: string): Piece[] {
  const out: Piece[] = [];
  for (let i = 0; i < template.length;) {
    const field = FIELDS.find((f) => template.startsWith(f, i));
    if (field) {
      out.push({ field });
      i += field.length;
    } else {
      out.push({ literal: template[i]! });
      i += 1;
    }
  }
  return out;
}

function fieldText(field: Field, d: CalendarDate): string {
  switch (field) {
    case "YYYY":
      return String(d.year);
    case "YY":
      return pad2(d.year % 100);
    case "MMMM":
      return MONTHS[d.month - 1]!;
    case "MMM":
      return MONTHS[d.month - 1]!.slice(0, 3);
    case "MM":
      return pad2(d.month);
    case "M":
      return String(d.month);
    case "dddd":
      return WEEKDAYS[weekday(d)]!;
    case "ddd":
      return WEEKDAYS[weekday(d)]!.slice(0, 3);
    case "Do":
      return ordinal(d.day);
    case "DD":
      return pad2(d.day);
    case "D":
      return String(d.day);
  }
}

export function formatDate(d: CalendarDate, format: DateFormat): string {
  const s = pieces(format.template)
    .map((p) => ("field" in p ? fieldText(p.field, d) : p.literal))
    .join("");
  return format.case === "lower" ? s.toLowerCase() : format.case === "upper" ? s.toUpperCase() : s;
}

const names = (list: string[], n?: number): string => list.map((m) => (n ? m.slice(0, n) : m).toLowerCase()).join("|");
const FIELD_PATTERN: Record<Field, string> = {
  YYYY: "(\\d{4})",
  YY: "(\\d{2})",
  MM: "(\\d{2})",
  M: "(\\d{1,2})",
  DD: "(\\d{2})",
  D: "(\\d{1,2})",
  Do: "(\\d{1,2}(?:st|nd|rd|th))",
  MMMM: `(${names(MONTHS)})`,
  MMM: `(${names(MONTHS, 3)})`,
  dddd: `(${names(WEEKDAYS)})`,
  ddd: `(${names(WEEKDAYS, 3)})`,
};

/** The parse of one template: a regular expression with one group per field. */
const PARSERS = DATE_FORMATS.map((f) => {
  const ps = pieces(f.template);
  const fields = ps.flatMap((p) => ("field" in p ? [p.field] : []));
  const source = ps
    .map((p) => ("field" in p ? FIELD_PATTERN[p.field] : p.literal.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return { format: f, fields, re: new RegExp(`^${source}$`, "i") };
});

/**
 * Every ISO date the string can mean under any of the formats (weekdays and ordinal suffixes must agree
 * with the date; two-digit years read 50–99 as 19yy). For the strings formatDate writes this is exactly one.
 */
export function parseDate(s: string): string[] {
  const found = new Set<string>();
  for (const { fields, re } of PARSERS) {
    const m = re.exec(s);
    if (!m) continue;
    const d: CalendarDate = { year: NaN, month: NaN, day: NaN };
    let wd: number | null = null,
      ord: string | null = null;
    fields.forEach((field, i) => {
      const v = m[i + 1]!.toLowerCase();
      switch (field) {
        case "YYYY":
          d.year = Number(v);
          break;
        case "YY":
          d.year = Number(v) + (Number(v) >= 50 ? 1900 : 2000);
          break;
        case "MMMM":
        case "MMM":
          d.month = MONTHS.findIndex((n) => n.toLowerCase().startsWith(v)) + 1;
          break;
        case "MM":
        case "M":
          d.month = Number(v);
          break;
        case "dddd":
        case "ddd":
          wd = WEEKDAYS.findIndex((n) => n.toLowerCase().startsWith(v));
          break;
        case "Do":
          ord = v;
          d.day = parseInt(v, 10);
          break;
        case "DD":
        case "D":
          d.day = Number(v);
          break;
      }
    });
    if (!isValid(d)) continue;
    if (wd !== null && wd !== weekday(d)) continue;
    if (ord !== null && ord !== ordinal(d.day)) continue;
    found.add(isoDate(d));
  }
  return [...found].sort();
}

/** A uniformly random day of 1950–2049. */
export function randomDate(generator: Generator): CalendarDate {
  const days = (LAST_DAY - FIRST_DAY) / DAY_MS + 1;
  const t = new Date(FIRST_DAY + generator.randint(0, days) * DAY_MS);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** The dates task: characters in, the ten characters of the ISO date out. */
export function datesTask(formats: readonly DateFormat[] = DATE_FORMATS): Seq2SeqTask {
  if (formats.length === 0) throw new ArgumentError("datesTask: no formats");
  const chars = (s: string): string[] => [...s];
  return {
    name: "dates",
    srcVocab: new SymbolVocab([..." ,./-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]),
    tgtVocab: new SymbolVocab([..."-0123456789"]),
    split: chars,
    join: (symbols) => symbols.join(""),
    maxTgtLen: 10,
    sample(generator: Generator): Pair {
      const d = randomDate(generator);
      const f = formats[generator.randint(0, formats.length)]!;
      return { src: formatDate(d, f), tgt: isoDate(d) };
    },
  };
}
