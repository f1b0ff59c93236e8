/**
 * The glossary's rules (docs/sozluk.md) as a checker, shared by the glossary test and the
 * self-test report's test: a Turkish text never uses a word the glossary rules out, and
 * "anahtar" means a cryptographic key (the city key, its key id and key space, a node's or the
 * vehicle list's key) or Redis's own keys only.
 */

/**
 * Words the glossary's "kullanılmaz" column rules out: `dokunuş` for a tap, `jeton` for a token,
 * `kapı`/`geçit` for a fare gate, the upper-case Turkish spellings of the protocol codes.
 */
export const FORBIDDEN = ['dokunuş', 'jeton', 'kapı', 'geçit', 'geçid', 'RİSKSİZ', 'RİSKLİ'] as const;

/**
 * The only phrases "anahtar" may appear in (any suffix after them; a line break may fall between
 * their words): cryptographic keys and Redis's keys, never a token or a password.
 */
export const ANAHTAR_ALLOWED = [
  'şehir anahtar',
  'anahtar kimliğ',
  'anahtar alan',
  'anahtar dosya',
  'redis anahtar',
  'düğüm anahtar',
  'imza anahtar',
  'anahtarıyla imzala',
  'açık anahtar',
  'özel anahtar',
  'liste anahtar',
] as const;

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
  const lines = text.split('\n');
  const problems: TermProblem[] = [];
  lines.forEach((raw, i) => {
    for (const word of FORBIDDEN) {
      if (raw.includes(word) || raw.includes(capitalised(word))) problems.push({ line: i + 1, word, text: raw.trim() });
    }
  });
  // "anahtar": mark what the allowed phrases cover (across line breaks: prose wraps), then any
  // "anahtar" not covered is a breach. Turkish lower-casing keeps the length, so indexes hold.
  const lower = text.toLocaleLowerCase('tr-TR');
  if (lower.length !== text.length) throw new Error('lower-casing changed the text\'s length');
  const covered = new Uint8Array(lower.length);
  for (const phrase of ANAHTAR_ALLOWED) {
    for (const m of lower.matchAll(new RegExp(phrase.split(' ').join('\\s+'), 'gu'))) covered.fill(1, m.index, m.index + m[0].length);
  }
  for (let at = lower.indexOf('anahtar'); at >= 0; at = lower.indexOf('anahtar', at + 1)) {
    if (covered[at] === 1) continue;
    const line = text.slice(0, at).split('\n').length;
    problems.push({ line, word: 'anahtar', text: lines[line - 1]!.trim() });
  }
  return problems.sort((a, b) => a.line - b.line);
}
