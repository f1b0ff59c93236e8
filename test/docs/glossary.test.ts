/**
 * Issue 22: Turkish terms drifted (gate as turnike/kapı/geçit, token as jeton and as anahtar —
 * colliding with şehir anahtarı, the city key —, RİSKSİZ for RISKLESS, dokunuş for a tap).
 * docs/sozluk.md fixes one word for each; this test holds every Turkish text the project ships
 * to it: the docs, the README and the live page (the self-test report is checked in its own test).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANAHTAR_ALLOWED, FORBIDDEN, glossaryProblems } from './turkish-terms.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GLOSSARY = 'docs/sozluk.md';

/** Every shipped text that carries Turkish; the glossary itself names the ruled-out words. */
function textsToCheck(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`)
    .filter((f) => f !== GLOSSARY);
  return [...docs, 'README.md', 'src/http/live/index.html', 'src/http/live/app.js'];
}

describe('the Turkish glossary (docs/sozluk.md)', () => {
  const glossary = readFileSync(join(ROOT, GLOSSARY), 'utf8');

  it('names every word the checker rules out, and every phrase "anahtar" is allowed in', () => {
    // The glossary is the rule; the checker only enforces it. A word ruled out here but not
    // written in the glossary would surprise a translator.
    for (const word of FORBIDDEN) expect(glossary, word).toContain(`\`${word}\``);
    for (const phrase of ANAHTAR_ALLOWED) expect(glossary.toLocaleLowerCase('tr-TR'), phrase).toContain(`\`${phrase}`);
  });

  it('fixes one word for gate, tap, token, pass and deny', () => {
    for (const row of [
      /\| \(fare\) gate \| turnike \|/,
      /\| tap \| kart okutma/,
      /\| token \(API token, admin token\) \| erişim belirteci/,
      /\| pass \(verdict `pass`\) \| geçiş izni/,
      /\| deny \(verdict `deny`\) \| ret/,
      /\| city key \| şehir anahtarı/,
    ]) {
      expect(glossary).toMatch(row);
    }
  });

  it.each(textsToCheck())('%s uses the glossary\'s terms', (file) => {
    const problems = glossaryProblems(readFileSync(join(ROOT, file), 'utf8'));
    expect(problems.map((p) => `${file}:${p.line}: "${p.word}" in: ${p.text.slice(0, 120)}`)).toEqual([]);
  });

  it('the checker catches each ruled-out word, capitalised too, and a stray "anahtar"', () => {
    expect(glossaryProblems('Kart dokunuşları bakanlığa gider').map((p) => p.word)).toEqual(['dokunuş']);
    expect(glossaryProblems('Kapı denetleyicisi').map((p) => p.word)).toEqual(['kapı']);
    expect(glossaryProblems('her geçidin kesinti politikası').map((p) => p.word)).toEqual(['geçid']);
    expect(glossaryProblems('yönetici jetonu').map((p) => p.word)).toEqual(['jeton']);
    expect(glossaryProblems('örnek kod: RİSKSİZ').map((p) => p.word)).toEqual(['RİSKSİZ']);
    expect(glossaryProblems('Operatör anahtarı').map((p) => p.word)).toEqual(['anahtar']);
    expect(glossaryProblems('Şehir anahtarı dosyası; anahtar kimliği k1; Redis anahtarları')).toEqual([]);
    // Prose wraps: an allowed phrase split by a line break is still allowed; a stray word is found on its line.
    expect(glossaryProblems('yeni bir şehir\n   anahtarı ve düğüm anahtarı üretin')).toEqual([]);
    expect(glossaryProblems('satır bir\nyönetici anahtarı gerekir')).toEqual([{ line: 2, word: 'anahtar', text: 'yönetici anahtarı gerekir' }]);
    expect(glossaryProblems('risksiz ve riskli kodlar; turnike; kapalı; geçiş izni')).toEqual([]);
  });
});
