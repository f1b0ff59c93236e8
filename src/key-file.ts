/**
 * The shape hes-gate's symmetric key files share (the city key, the vehicle list key): `#`
 * comments, blank lines, and `<key id>:<32 bytes in base64>` lines. Each caller says what a bad
 * line means in its own error; nothing here repeats a line's content.
 */

/** A key id: 1–16 lower-case letters, digits or dashes (it names Redis key spaces and list files). */
export const KEY_ID_RE = /^[a-z0-9][a-z0-9-]{0,15}$/;

export interface KeyLine {
  /** 1-based line number in the file. */
  line: number;
  kid: string;
  /** 32 bytes; the caller zeroes it once derived. */
  secret: Buffer;
}

/** The key lines of a key file's text, in order; `malformed(line)` is called, and must throw, for a line of another shape. */
export function keyFileLines(text: string, malformed: (line: number) => never): KeyLine[] {
  const out: KeyLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const kid = colon < 0 ? '' : line.slice(0, colon);
    const b64 = colon < 0 ? '' : line.slice(colon + 1);
    const secret = /^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
    if (!KEY_ID_RE.test(kid) || secret.length !== 32) malformed(i + 1);
    out.push({ line: i + 1, kid, secret });
  });
  return out;
}
