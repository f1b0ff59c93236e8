/**
 * What the station reports: its events and the status object behind `/readyz`, metrics and
 * `hes-gate devices`. None of these ever carry a full card id or QR payload.
 */
import type { Reason, Source, Verdict } from '../types.js';
import type { LinkState } from './device-link.js';
import type { DropReason } from './framing/index.js';
import type { RejectReason } from './reader.js';

export type DeviceRole = 'reader' | 'controller';

/** The port's state, or `failing`: a controller whose port is open but whose commands fail or time out. */
export type DeviceState = LinkState | 'failing';

/** Why a read went nowhere: framing drops, decode rejections, and suppressed repeats. */
export type FrameDropWhy = DropReason | RejectReason | 'repeat';

export interface DeviceStatus {
  /** Reader id, or `<gate>/controller` (`controller@<path>` when gates share it). */
  id: string;
  role: DeviceRole;
  gates: string[];
  path: string;
  profile: string;
  state: DeviceState;
  /** When `state` last changed (epoch ms). */
  since: number;
  lastError?: string;
  reopens: number;
  failedAttempts: number;
  /** Readers: accepted reads. Controllers: commands sent. */
  count: number;
  /** Reads dropped, by reason (readers only; empty for controllers). */
  dropped: Partial<Record<FrameDropWhy, number>>;
  /** Controllers: last feedback event (`passed`, `alarm`…). */
  lastFeedback?: string;
  /** Controllers: why the last failed command failed (no echo, port closed…). */
  lastCommandError?: string;
  /** Controllers: commands failed in a row since the last one that succeeded (0 = answering). */
  commandFailures?: number;
}

export interface TapEvent {
  gate: string;
  reader: string;
  kind: 'card' | 'qr';
  /** Masked value (`…A61E`, `<qr 42 chars>`): never the full id or payload. */
  masked: string;
  verdict: Verdict;
  reason: Reason;
  source: Source;
  /** From the frame's arrival to the gate command on the wire. */
  elapsedMs: number;
  /** `none`: no controller, or the profile shows nothing for this verdict. */
  command: 'sent' | 'none' | 'failed';
  /** The decision missed the gate's deadline (or failed) and the gate got a deny. */
  fallback: boolean;
}

/** A device's state changed (emitted once per change, not at each reconnect attempt). */
export interface DeviceEvent {
  id: string;
  role: DeviceRole;
  path: string;
  state: DeviceState;
  error?: string;
  /** The station closed it on purpose (a normal shutdown): nothing for an operator to act on. */
  expected?: boolean;
}

export interface FrameDroppedEvent {
  reader: string;
  why: FrameDropWhy;
}

export interface FeedbackEvent {
  controller: string;
  gates: string[];
  event: string;
}

export interface StationEvents {
  tap: [TapEvent];
  device: [DeviceEvent];
  'frame-dropped': [FrameDroppedEvent];
  feedback: [FeedbackEvent];
}
