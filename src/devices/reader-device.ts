/**
 * A serial reader at the station: its bytes become frames, a frame becomes a credential, and a
 * credential becomes the gate's command within the gate's deadline.
 *
 *   link ─> framer ─> decodeFrame ─> repeat filter ─> decide() ─(deadline)─> command ─> 'tap' event
 *
 * A late or failed decision is a deny (FALLBACK_DECISION), and the 'tap' event says so.
 */
import { performance } from 'node:perf_hooks';
import { within } from '../deadline.js';
import type { ReaderProfile } from '../config/device-profiles.js';
import { FALLBACK_DECISION } from '../policy/decide.js';
import { maskCardId, maskQr } from '../privacy/mask.js';
import type { Credential, Decision } from '../types.js';
import type { ReaderConfig, StationGateConfig } from './config.js';
import type { FrameDropWhy, TapEvent } from './events.js';
import { createFramer, type FrameDrop, type Framer, type Timers } from './framing/index.js';
import { decodeFrame } from './reader.js';
import { wireLink, type Device, type DeviceContext } from './station-device.js';

export interface ReaderDevice extends Device {
  config: ReaderConfig;
  gate: StationGateConfig;
  profile: ReaderProfile;
  framer: Framer | undefined;
  last: { value: string; at: number } | undefined;
}

export interface ReaderContext extends DeviceContext {
  /** Timers for silence framing; undefined = real timers. */
  timers: Timers | undefined;
  decide: (credential: Credential) => Promise<Decision>;
  /** Sends the decision to the gate's controller: `none` without one. */
  command(gate: StationGateConfig, decision: Decision): TapEvent['command'] | Promise<TapEvent['command']>;
}

export function wireReader(device: ReaderDevice, ctx: ReaderContext): void {
  wireLink(device, ctx);
  device.link.on('open', () => {
    const framer = createFramer(device.profile.framing, ctx.timers ? { timers: ctx.timers, now: ctx.clock } : { now: ctx.clock });
    framer.on('data', (frame: Buffer) => {
      onFrame(device, frame, performance.now(), ctx).catch((err: unknown) => {
        ctx.log?.error({ reader: device.config.id, err }, 'tap handling failed');
      });
    });
    framer.on('drop', (drop: FrameDrop) => dropped(device, drop.why, ctx));
    framer.on('error', (err: Error) => ctx.log?.error({ reader: device.config.id, err }, 'framer failed'));
    device.framer = framer;
  });
  device.link.on('data', (chunk) => device.framer?.write(chunk));
  device.link.on('closed', () => {
    device.framer?.end();
    device.framer = undefined;
  });
}

function dropped(device: ReaderDevice, why: FrameDropWhy, ctx: ReaderContext): void {
  device.status.dropped[why] = (device.status.dropped[why] ?? 0) + 1;
  ctx.emit('frame-dropped', { reader: device.config.id, why });
}

async function onFrame(device: ReaderDevice, frame: Buffer, arrivedAt: number, ctx: ReaderContext): Promise<void> {
  const read = decodeFrame(device.profile, frame);
  if (read.kind === 'rejected') {
    dropped(device, read.why, ctx);
    return;
  }
  const now = ctx.clock();
  const last = device.last;
  if (last && last.value === read.value && now - last.at < device.profile.repeatWindowMs) {
    last.at = now;
    dropped(device, 'repeat', ctx);
    return;
  }
  device.last = { value: read.value, at: now };
  device.status.count += 1;
  const { gate } = device;
  const credential: Credential = { kind: read.kind, value: read.value, gate: gate.id, reader: device.config.id, at: now };
  const masked = read.kind === 'card' ? maskCardId(read.value) : maskQr(read.value);

  const decided = ctx.decide(credential).then(
    (d): Decision | Error => d,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  const outcome = await within(decided, gate.deadlineMs, (r) => r, () => new Error(`decision took longer than ${gate.deadlineMs} ms`));
  let decision: Decision;
  let fallback = false;
  if (outcome instanceof Error) {
    decision = FALLBACK_DECISION;
    fallback = true;
    ctx.log?.warn({ gate: gate.id, reader: device.config.id, credential: masked, err: outcome }, 'no decision by the deadline; gate told deny');
  } else {
    decision = outcome;
  }

  const sent = ctx.command(gate, decision);
  const command = typeof sent === 'string' ? sent : await sent;
  ctx.emit('tap', {
    gate: gate.id, reader: device.config.id, kind: read.kind, masked,
    verdict: decision.verdict, reason: decision.reason, source: decision.source,
    elapsedMs: performance.now() - arrivedAt, command, fallback,
  });
}
