/**
 * Reads a bulk answer's two maps without making every HES code a property name.
 *
 *   {"success_map": {"<code>": {…}, …}, "unsuccess_map": {"<code>": "…", …}}
 *     └─ this scanner walks the two maps: each code is sliced out as a plain string,
 *        each value's text is collected ──> one JSON.parse of "[v1,v2,…]" ──> Map<code, value>
 *
 * Why: `JSON.parse` interns every property name in V8's string table. A refresher rotation asks
 * about codes never asked before, 500 per call, so each answer added 500 names to the table; the
 * table's growth and rehash ran inside `JSON.parse` and stalled the event loop for 50–130 ms at a
 * time (CPU profile of a rotation; a micro-benchmark of 4,000 answers: p50 0.22 ms, max 132 ms,
 * where the same keys each time give max 1.7 ms). The values' own property names
 * (`current_health_status`, …) are few and repeat, so parsing the values is cheap.
 *
 * The scanner only has to be right when it accepts: anything it does not expect (another shape,
 * a stray byte, an escape in a code) returns undefined, and the caller parses the text with
 * `JSON.parse` as before (and reports a malformed answer as before). When it accepts, the maps
 * hold exactly what `JSON.parse` would give (duplicate codes: the last one wins; a map given as
 * null is absent). Other top-level keys are checked with `JSON.parse` and otherwise ignored.
 */

export interface BulkMaps {
  /** `success_map`, when present and an object. */
  success: Map<string, unknown> | undefined;
  /** `unsuccess_map`, when present and an object. */
  unsuccess: Map<string, unknown> | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** JSON whitespace: space, tab, line feed, carriage return. */
function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** The index after the string starting at `i` (a quote), or -1. Escapes are skipped, not checked. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
    else if (c < 0x20) return -1; // a control character is not allowed in a JSON string
  }
  return -1;
}

/**
 * The index after the value starting at `i`, or -1. Its syntax is checked later by `JSON.parse`;
 * here only its extent matters: strings, and brackets outside strings, up to the matching close.
 */
function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return stringEnd(text, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) {
        const end = stringEnd(text, j);
        if (end < 0) return -1;
        j = end - 1;
      } else if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  for (; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
  }
  return j > i ? j : -1;
}

/** A key at `i` (a quote) without escapes: the string and the index after it; undefined otherwise. */
function plainKey(text: string, i: number): { key: string; end: number } | undefined {
  if (text.charCodeAt(i) !== QUOTE) return undefined;
  const end = stringEnd(text, i);
  if (end < 0) return undefined;
  const key = text.slice(i + 1, end - 1);
  return key.includes('\\') ? undefined : { key, end };
}

/**
 * Walks the members of the object whose `{` is at `i`: for each, `member(key, at)` reads the value
 * starting at `at` and returns the index after it, or -1 to give up. Returns the index after the
 * object's `}`, or -1 when the text is not what is expected.
 */
function eachMember(text: string, i: number, member: (key: string, at: number) => number): number {
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
  for (;;) {
    const k = plainKey(text, i);
    if (k === undefined) return -1;
    i = skipSpace(text, k.end);
    if (text.charCodeAt(i) !== COLON) return -1;
    const end = member(k.key, skipSpace(text, i + 1));
    if (end < 0) return -1;
    i = skipSpace(text, end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_OBJECT) return i + 1;
    if (c !== COMMA) return -1;
    i = skipSpace(text, i + 1);
  }
}

/** One map's entries: keys, and the values' text parsed as one JSON array. Undefined when unsure. */
function readMap(text: string, i: number): { map: Map<string, unknown>; end: number } | undefined {
  const keys: string[] = [];
  const values: string[] = [];
  const end = eachMember(text, i, (key, at) => {
    const valueAt = valueEnd(text, at);
    if (valueAt >= 0) {
      keys.push(key);
      values.push(text.slice(at, valueAt));
    }
    return valueAt;
  });
  if (end < 0) return undefined;
  let parsed: unknown[];
  try {
    parsed = JSON.parse(`[${values.join(',')}]`) as unknown[];
  } catch {
    return undefined;
  }
  // A value's text that is not exactly one value (e.g. `1 2` cut at the space) is caught above:
  // the join would then have more elements than keys.
  if (parsed.length !== keys.length) return undefined;
  const map = new Map<string, unknown>();
  for (let n = 0; n < keys.length; n++) map.set(keys[n]!, parsed[n]);
  return { map, end };
}

/** The two maps of a bulk answer, or undefined when the text should go to `JSON.parse` instead. */
export function scanBulkAnswer(text: string): BulkMaps | undefined {
  const out: BulkMaps = { success: undefined, unsuccess: undefined };
  const start = skipSpace(text, 0);
  if (text.charCodeAt(start) !== OPEN_OBJECT) return undefined;
  const end = eachMember(text, start, (key, at) => {
    const isMap = key === 'success_map' || key === 'unsuccess_map';
    if (isMap && text.charCodeAt(at) === OPEN_OBJECT) {
      const m = readMap(text, at);
      if (m === undefined) return -1;
      if (key === 'success_map') out.success = m.map;
      else out.unsuccess = m.map;
      return m.end;
    }
    const valueAt = valueEnd(text, at);
    if (valueAt < 0) return -1;
    let value: unknown;
    try {
      value = JSON.parse(text.slice(at, valueAt));
    } catch {
      return -1;
    }
    if (isMap) {
      // The last occurrence of a key wins, as with JSON.parse: null is read as absent (`?? {}`);
      // anything else is a malformed answer, which JSON.parse's path reports.
      if (value !== null) return -1;
      if (key === 'success_map') out.success = undefined;
      else out.unsuccess = undefined;
    }
    return valueAt;
  });
  return end >= 0 && skipSpace(text, end) === text.length ? out : undefined;
}
