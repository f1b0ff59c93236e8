/**
 * The glossary's rules (docs/sozluk.md) as a checker, shared by the glossary test and the
 * self-test report's test: a Turkish text never uses a word the glossary rules out, and
 * "anahtar" means the city key (and its key id and key space, or Redis's own keys) only.
 */

/**
 * Words the glossary's "kullanılmaz" column rules out: `dokunuş` for a tap, `jeton` for a token,
 * `kapı`/`geçit` for a fare gate, the upper-case Turkish spellings of the protocol codes.
 */
export const FORBIDDEN = ['dokunuş', 'jeton', 'kapı', 'geçit', 'geçid', 'RİSKSİZ', 'RİSKLİ'] as const;

/** The only phrases "anahtar" may appear in (any suffix after them). */
export const ANAHTAR_ALLOWED = ['şehir anahtar', 'anahtar kimliğ', 'anahtar alan', 'redis anahtar'] as const;

export interface TermProblem {
  line: number;
  word: string;
  text: string;
}

/** Turkish-aware upper case of the first letter only: "kapı" → "Kapı", "ılık" → "Ilık". */
function capitalised(word: string): string {
  return word.charAt(0).toLocaleUpperCase('tr-TR') + word.slice(1);
}

/**
 * Every breach of the glossary in `text`, by line. A forbidden word is matched as written and
 * with its first letter upper-cased (a sentence may start with it), not case-insensitively:
 * `RİSKSİZ` is ruled out while the prose word "risksiz" is the glossary's own choice.
 */
export function glossaryProblems(text: string): TermProblem[] {
  const problems: TermProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    for (const word of FORBIDDEN) {
      if (raw.includes(word) || raw.includes(capitalised(word))) problems.push({ line: i + 1, word, text: raw.trim() });
    }
    const lower = raw.toLocaleLowerCase('tr-TR');
    // Strike out the allowed phrases, then any "anahtar" left is a breach.
    let rest = lower;
    for (const phrase of ANAHTAR_ALLOWED) rest = rest.split(phrase).join('#');
    if (rest.includes('anahtar')) problems.push({ line: i + 1, word: 'anahtar', text: raw.trim() });
  });
  return problems;
}
