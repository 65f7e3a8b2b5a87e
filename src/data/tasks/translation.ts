// A synthetic translation task between two invented languages whose word order differs, so that a model
// must learn an alignment rather than copy. One seeded lexicon gives each concept a made-up word in each
// language; a small grammar writes one meaning in both.
//
//   meaning   subject "the big dogs", verb "see" (past), object "a red bird", "with the old king"
//   source    SVO, adjectives before the noun, plural by a particle before the noun phrase, past by a
//             particle before the verb, prepositions:
//               PL  big  dog  PAST  see  red  bird  with  old  king
//   target    SOV, the noun first, then a plural suffix, then the adjectives in mirror order; the object
//             marked by a particle after it; the prepositional phrase before the object, as a
//             postposition; past as a suffix after the verb:
//               dog  PL  big  king  old  with  bird  red  OBJ  see  PAST
//
// Both sentences are lowercase words separated by single spaces (no punctuation: 13a tokenisation leaves
// them as they are). Every draw comes from the Generator passed in; browser-safe.

import { ArgumentError } from "../../engine/errors.js";
import { Generator } from "../../engine/rng.js";
import { SymbolVocab, type Pair, type Seq2SeqTask } from "./seq.js";

/** English glosses of the concepts (for reading the examples; the languages themselves are invented). */
export const GLOSSES = Object.freeze({
  nouns: [
    "dog",
    "cat",
    "bird",
    "fish",
    "horse",
    "child",
    "woman",
    "man",
    "king",
    "queen",
    "farmer",
    "teacher",
    "house",
    "tree",
    "river",
    "stone",
    "book",
    "ship",
    "city",
    "garden",
    "bread",
    "apple",
    "sword",
    "lamp",
  ],
  adjectives: ["big", "small", "red", "blue", "old", "young", "happy", "sad", "fast", "slow", "tall", "quiet"],
  verbs: ["see", "like", "find", "carry", "build", "paint", "follow", "call", "eat", "hold", "watch", "help"],
  prepositions: ["with", "near", "under", "behind"],
});

export interface Language {
  nouns: string[];
  adjectives: string[];
  verbs: string[];
  /** prepositions in the source, postpositions in the target */
  adpositions: string[];
  /** the plural marker (a particle before the noun phrase in the source, a suffix after the noun in the target) */
  plural: string;
  /** the past-tense marker (before the verb in the source, after it in the target) */
  past: string;
  /** the object marker (target only; "" in the source) */
  object: string;
}

export interface Lexicon {
  source: Language;
  target: Language;
}

/** A noun phrase's meaning: indices into the lexicon. */
export interface NounPhrase {
  noun: number;
  plural: boolean;
  adjectives: number[];
}

/** A sentence's meaning. */
export interface Meaning {
  subject: NounPhrase;
  verb: number;
  past: boolean;
  object: NounPhrase;
  adjunct: { adposition: number; np: NounPhrase } | null;
}

/**
 * Invent both languages' words: the source from syllables of p t k m n s l r b d g and a e i o u, the target
 * from syllables of v z h f w j q x c and a e i o u y, so that the two look different; every word is
 * unique across both languages (they share one vocabulary). Content words have two syllables, markers one.
 */
export function makeLexicon(g: Generator): Lexicon {
  const used = new Set<string>();
  const word = (cons: string, vowels: string, syllables: number): string => {
    for (;;) {
      let w = "";
      for (let s = 0; s < syllables; s++) {
        w += cons[g.randint(0, cons.length)]! + vowels[g.randint(0, vowels.length)]!;
        if (g.random() < 0.3) w += cons[g.randint(0, cons.length)]!;
      }
      if (!used.has(w)) {
        used.add(w);
        return w;
      }
    }
  };
  const language = (cons: string, vowels: string, withObject: boolean): Language => ({
    nouns: GLOSSES.nouns.map(() => word(cons, vowels, 2)),
    adjectives: GLOSSES.adjectives.map(() => word(cons, vowels, 2)),
    verbs: GLOSSES.verbs.map(() => word(cons, vowels, 2)),
    adpositions: GLOSSES.prepositions.map(() => word(cons, vowels, 1)),
    plural: word(cons, vowels, 1),
    past: word(cons, vowels, 1),
    object: withObject ? word(cons, vowels, 1) : "",
  });
  return { source: language("ptkmnslrbdg", "aeiou", false), target: language("vzhfwjqxc", "aeiouy", true) };
}

export interface MeaningOptions {
  /** at most this many adjectives per noun phrase (default 2) */
  maxAdjectives?: number;
  /** probability of a plural noun phrase (default 0.4) */
  pluralP?: number;
  /** probability of the past tense (default 0.5) */
  pastP?: number;
  /** probability of an adpositional phrase (default 0.4) */
  adjunctP?: number;
}

/** A random meaning. */
export function randomMeaning(g: Generator, opts: MeaningOptions = {}): Meaning {
  const { maxAdjectives = 2, pluralP = 0.4, pastP = 0.5, adjunctP = 0.4 } = opts;
  const np = (): NounPhrase => {
    const adjectives: number[] = [];
    const n = g.randint(0, maxAdjectives + 1);
    while (adjectives.length < n) {
      const a = g.randint(0, GLOSSES.adjectives.length);
      if (!adjectives.includes(a)) adjectives.push(a);
    }
    return { noun: g.randint(0, GLOSSES.nouns.length), plural: g.random() < pluralP, adjectives };
  };
  const subject = np();
  const verb = g.randint(0, GLOSSES.verbs.length);
  const past = g.random() < pastP;
  const object = np();
  const adjunct = g.random() < adjunctP ? { adposition: g.randint(0, GLOSSES.prepositions.length), np: np() } : null;
  return { subject, verb, past, object, adjunct };
}

/** The source sentence (SVO): [PL] adj… noun [PAST] verb [PL] adj… noun [prep [PL] adj… noun] */
export function sourceSentence(m: Meaning, lex: Lexicon): string {
  const L = lex.source;
  const np = (p: NounPhrase): string[] => [
    ...(p.plural ? [L.plural] : []),
    ...p.adjectives.map((a) => L.adjectives[a]!),
    L.nouns[p.noun]!,
  ];
  const words = [...np(m.subject), ...(m.past ? [L.past] : []), L.verbs[m.verb]!, ...np(m.object)];
  if (m.adjunct) words.push(L.adpositions[m.adjunct.adposition]!, ...np(m.adjunct.np));
  return words.join(" ");
}

/** The target sentence (SOV): noun [PL] …adj [noun [PL] …adj postp] noun [PL] …adj OBJ verb [PAST] */
export function targetSentence(m: Meaning, lex: Lexicon): string {
  const L = lex.target;
  // the noun, its plural suffix, then the adjectives in mirror order
  const np = (p: NounPhrase): string[] => [
    L.nouns[p.noun]!,
    ...(p.plural ? [L.plural] : []),
    ...[...p.adjectives].reverse().map((a) => L.adjectives[a]!),
  ];
  const words = [...np(m.subject)];
  if (m.adjunct) words.push(...np(m.adjunct.np), L.adpositions[m.adjunct.adposition]!);
  words.push(...np(m.object), L.object, L.verbs[m.verb]!, ...(m.past ? [L.past] : []));
  return words.join(" ");
}

/** The English gloss of a meaning, for reading examples: "the big dogs saw a red bird with the old king". */
export function gloss(m: Meaning): string {
  const np = (p: NounPhrase): string =>
    [...p.adjectives.map((a) => GLOSSES.adjectives[a]!), GLOSSES.nouns[p.noun]! + (p.plural ? "s" : "")].join(" ");
  const verb = GLOSSES.verbs[m.verb]! + (m.past ? " (past)" : "");
  return [
    np(m.subject),
    verb,
    np(m.object),
    ...(m.adjunct ? [GLOSSES.prepositions[m.adjunct.adposition]!, np(m.adjunct.np)] : []),
  ].join(" ");
}

export interface TranslationOptions extends MeaningOptions {
  /** the seed of the lexicon: which invented words the two languages get (default 0) */
  lexiconSeed?: number;
}

/**
 * The translation task: source sentences in, target sentences out, both as space-separated words. The
 * lexicon is fixed by `lexiconSeed`; the sentences are drawn by the generator passed to `sample`.
 */
export function translationTask(opts: TranslationOptions = {}): Seq2SeqTask & { readonly lexicon: Lexicon } {
  const { lexiconSeed = 0, ...meaning } = opts;
  const maxAdjectives = meaning.maxAdjectives ?? 2;
  if (!(Number.isInteger(maxAdjectives) && maxAdjectives >= 0 && maxAdjectives <= GLOSSES.adjectives.length)) {
    throw new ArgumentError(
      `translationTask: maxAdjectives must be an integer in [0, ${GLOSSES.adjectives.length}], got ${maxAdjectives}`,
    );
  }
  const lexicon = makeLexicon(new Generator(lexiconSeed));
  const words = (L: Language): string[] => [
    ...L.nouns,
    ...L.adjectives,
    ...L.verbs,
    ...L.adpositions,
    L.plural,
    L.past,
    ...(L.object ? [L.object] : []),
  ];
  return {
    name: "translation",
    lexicon,
    srcVocab: new SymbolVocab(words(lexicon.source)),
    tgtVocab: new SymbolVocab(words(lexicon.target)),
    split: (s: string) => (s === "" ? [] : s.split(" ")),
    join: (symbols: readonly string[]) => symbols.join(" "),
    // the longest target: three noun phrases of noun + plural + adjectives, the adposition, OBJ, verb, past
    maxTgtLen: 3 * (2 + maxAdjectives) + 4,
    sample(generator: Generator): Pair {
      const m = randomMeaning(generator, meaning);
      return { src: sourceSentence(m, lexicon), tgt: targetSentence(m, lexicon) };
    },
  };
}

/** Every word of both languages, sorted: the shared vocabulary of the task. */
export function lexiconWords(lex: Lexicon): string[] {
  const words = new Set<string>();
  for (const L of [lex.source, lex.target]) {
    for (const w of [...L.nouns, ...L.adjectives, ...L.verbs, ...L.adpositions, L.plural, L.past, L.object])
      if (w) words.add(w);
  }
  return [...words].sort();
}
