import { describe, expect, it } from 'vitest';
import { DelimiterFramer, SilenceFramer, StartEndFramer, type FrameDrop, type Timers } from '../../src/devices/framing/index.js';
import { xorHexChecksum } from '../../src/devices/framing/start-end.js';

type AnyFramer = DelimiterFramer | SilenceFramer | StartEndFramer;

function feed(framer: AnyFramer, chunks: Array<string | Buffer>, end = false): { frames: string[]; drops: FrameDrop[] } {
  const frames: string[] = [];
  const drops: FrameDrop[] = [];
  framer.on('data', (f: Buffer) => frames.push(f.toString('latin1')));
  framer.on('drop', (d: FrameDrop) => drops.push(d));
  for (const c of chunks) framer.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  if (end) framer.end();
  return { frames, drops };
}

/** Every way of cutting `text` into two chunks, and into single bytes. */
function splits(text: string): string[][] {
  const out: string[][] = [[...text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe('DelimiterFramer', () => {
  const make = (extra: Partial<ConstructorParameters<typeof DelimiterFramer>[0]> = {}) =>
    new DelimiterFramer({ delimiter: Buffer.from('\r\n'), maxLength: 8, ...extra });

  it('emits the same frames however the bytes are split, delimiter included', () => {
    for (const chunks of splits('ABC\r\nDEF\r\n')) {
      const { frames, drops } = feed(make(), chunks);
      expect(frames).toEqual(['ABC', 'DEF']);
      expect(drops).toEqual([]);
    }
  });

  it('drops an oversize line up to its delimiter and keeps the next one, with a bounded buffer', () => {
    const framer = make();
    const { frames, drops } = feed(framer, ['0123456789', 'abcdefghij'.repeat(100), 'x\r\nOK\r\n']);
    expect(frames).toEqual(['OK']);
    expect(drops.map((d) => d.why)).toEqual(['oversize']);
    expect(framer.dropped.oversize).toBe(1);
  });

  it('drops an oversize line that arrives whole', () => {
    const { frames, drops } = feed(make(), ['0123456789\r\nOK\r\n']);
    expect(frames).toEqual(['OK']);
    expect(drops.map((d) => d.why)).toEqual(['oversize']);
  });

  it('ignores empty lines (CR LF CR LF) and counts an unfinished line at end as partial', () => {
    const { frames, drops } = feed(make(), ['\r\n\r\nA\r\n', 'B'], true);
    expect(frames).toEqual(['A']);
    expect(drops).toEqual([{ why: 'partial', bytes: 1 }]);
  });

  it('drops a stale half line instead of gluing it to the next frame', () => {
    let now = 1000;
    const framer = make({ staleMs: 100, now: () => now });
    const result = feed(framer, ['HAL']);
    now += 500;
    framer.write(Buffer.from('NEW\r\n'));
    expect(result.frames).toEqual(['NEW']);
    expect(result.drops).toEqual([{ why: 'partial', bytes: 3 }]);
  });

  it('rejects bad options with a TypeError', () => {
    expect(() => new DelimiterFramer({ delimiter: Buffer.alloc(0), maxLength: 8 })).toThrow(TypeError);
    expect(() => new DelimiterFramer({ delimiter: Buffer.from('\n'), maxLength: 0 })).toThrow(TypeError);
  });
});

/** Timers driven by the test: `advance(ms)` fires what is due. */
function manualTimers(): Timers & { advance(ms: number): void } {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout(fn, ms) {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...pending].sort((x, y) => x[1].at - y[1].at)) {
        if (t.at <= now) {
          pending.delete(id);
          t.fn();
        }
      }
    },
  };
}

describe('SilenceFramer', () => {
  it('ends a frame after the silence, not at a chunk boundary', () => {
    const timers = manualTimers();
    const framer = new SilenceFramer({ silenceMs: 30, maxLength: 64, timers });
    const { frames } = feed(framer, []);
    framer.write(Buffer.from('HC1:'));
    timers.advance(10);
    framer.write(Buffer.from('PAYLOAD'));
    timers.advance(29);
    expect(frames).toEqual([]);
    timers.advance(1);
    expect(frames).toEqual(['HC1:PAYLOAD']);
    framer.write(Buffer.from('NEXT'));
    timers.advance(30);
    expect(frames).toEqual(['HC1:PAYLOAD', 'NEXT']);
  });

  it('drops an oversize burst up to the next silence, then frames again', () => {
    const timers = manualTimers();
    const framer = new SilenceFramer({ silenceMs: 30, maxLength: 8, timers });
    const { frames, drops } = feed(framer, []);
    framer.write(Buffer.from('0123456'));
    framer.write(Buffer.from('789'));
    framer.write(Buffer.from('more noise'));
    timers.advance(30);
    framer.write(Buffer.from('OK'));
    timers.advance(30);
    expect(frames).toEqual(['OK']);
    expect(drops).toEqual([{ why: 'oversize', bytes: 10 }]);
  });

  it('counts bytes pending at end as partial', () => {
    const timers = manualTimers();
    const framer = new SilenceFramer({ silenceMs: 30, maxLength: 8, timers });
    const { frames, drops } = feed(framer, ['ABC'], true);
    expect(frames).toEqual([]);
    expect(drops).toEqual([{ why: 'partial', bytes: 3 }]);
  });
});

describe('StartEndFramer (RDM6300)', () => {
  const data = '0A007186A6';
  const checksum = xorHexChecksum(data).toString(16).toUpperCase().padStart(2, '0');
  const frame = `\x02${data}${checksum}\x03`;
  const make = () => new StartEndFramer({ start: 2, end: 3, checksum: 'xor-hex', maxLength: 12 });

  it('computes the XOR checksum of the 5 data bytes', () => {
    expect(xorHexChecksum('0A007186A6')).toBe(0x0a ^ 0x00 ^ 0x71 ^ 0x86 ^ 0xa6);
  });

  it('emits the 10 data characters however the frame is split', () => {
    for (const chunks of splits(frame + frame)) {
      const { frames, drops } = feed(make(), chunks);
      expect(frames).toEqual([data, data]);
      expect(drops).toEqual([]);
    }
  });

  it('counts garbage between frames, once per run, and keeps the frames', () => {
    const { frames, drops } = feed(make(), [`xx${frame}\r\n\xff`, `${frame}zz`]);
    expect(frames).toEqual([data, data]);
    expect(drops).toEqual([
      { why: 'garbage', bytes: 2 },
      { why: 'garbage', bytes: 3 },
      { why: 'garbage', bytes: 2 },
    ]);
  });

  it('drops a bad checksum, a partial frame cut by a new start, and an oversize frame', () => {
    const bad = `\x02${data}00\x03`;
    const { frames, drops } = feed(make(), [bad, '\x020A00', frame, `\x02${'0'.repeat(20)}\x03`, frame]);
    expect(frames).toEqual([data, data]);
    expect(drops.map((d) => d.why)).toEqual(['checksum', 'partial', 'oversize']);
  });

  it('rejects bad options with a TypeError', () => {
    expect(() => new StartEndFramer({ start: 2, end: 2, maxLength: 12 })).toThrow(TypeError);
    expect(() => new StartEndFramer({ start: 300, end: 3, maxLength: 12 })).toThrow(TypeError);
  });
});
