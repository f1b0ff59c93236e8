/** Builds the framing Transform a profile's `framing` section describes. */
import type { FramingSpec } from '../../config/device-profiles.js';
import { DelimiterFramer } from './delimiter.js';
import { SilenceFramer } from './silence.js';
import { StartEndFramer } from './start-end.js';
import type { Timers } from './types.js';

export type Framer = DelimiterFramer | SilenceFramer | StartEndFramer;
export type { DropReason, FrameDrop, Timers } from './types.js';
export { DelimiterFramer, SilenceFramer, StartEndFramer };

export function createFramer(spec: FramingSpec, env: { timers?: Timers; now?: () => number } = {}): Framer {
  switch (spec.type) {
    case 'delimiter':
      return new DelimiterFramer({
        delimiter: Buffer.from(spec.delimiter, 'latin1'),
        maxLength: spec.maxLength,
        ...(spec.staleMs === undefined ? {} : { staleMs: spec.staleMs }),
        ...(env.now ? { now: env.now } : {}),
      });
    case 'silence':
      return new SilenceFramer({ silenceMs: spec.silenceMs, maxLength: spec.maxLength, ...(env.timers ? { timers: env.timers } : {}) });
    case 'start-end':
      return new StartEndFramer({
        start: spec.start,
        end: spec.end,
        checksum: spec.checksum,
        maxLength: spec.maxLength,
        ...(spec.staleMs === undefined ? {} : { staleMs: spec.staleMs }),
        ...(env.now ? { now: env.now } : {}),
      });
  }
}
