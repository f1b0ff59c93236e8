/**
 * The station runtime: serial readers in, gate commands out.
 *
 *   reader port ─> DeviceLink ─> framer ─> decodeFrame ─> repeat filter ─> decide() ─> controller
 *   (reopened with back-off)     (bounded)  (card id /     (per reader)     (injected,   (text line or
 *                                            QR payload)                    deadline)    Modbus pulse)
 *
 * It never throws after start and never emits 'error': a lost port becomes a 'device' event and
 * a retry; a bad frame becomes a 'frame-dropped' event. Events and `status()` carry no card id
 * or QR payload (only masked forms), so observability can log them as they are.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { HesGateError } from '../errors.js';
import { maskCardId, maskQr } from '../privacy/mask.js';
import type { Clock, Credential, Decision } from '../types.js';
import { FALLBACK_DECISION } from '../policy/decide.js';
import type { ControllerConfig, ReaderConfig, StationGateConfig } from './config.js';
import { createControllerDriver, type ControllerDriver } from './controller.js';
import { DEFAULT_BACKOFF, DeviceLink, type Backoff, type LinkState } from './device-link.js';
import { createFramer, DelimiterFramer, type FrameDrop, type Framer, type Timers } from './framing/index.js';
import type { Logger } from 'pino';
import type { DeviceEvent, DeviceRole, DeviceStatus, FrameDropWhy, StationEvents, TapEvent } from './events.js';
import type { GateProfile, Profiles, ReaderProfile } from './profiles.js';
import { decodeFrame } from './reader.js';
import { openSerialPort, type OpenPort } from './serial-port.js';

export type { DeviceEvent, DeviceRole, DeviceStatus, FeedbackEvent, FrameDroppedEvent, FrameDropWhy, StationEvents, TapEvent } from './events.js';

export interface StationOptions {
  gates: readonly StationGateConfig[];
  profiles: Profiles;
  decide: (credential: Credential) => Promise<Decision>;
  /** @default Date.now */
  clock?: Clock;
  logger?: Logger;
  /** @default opens a real serial port by path */
  openPort?: OpenPort;
  /** Reconnect back-off. @default {initialMs: 250, maxMs: 10000, factor: 2} */
  backoff?: Partial<Backoff>;
  /** Timers for silence framing. @default real timers */
  timers?: Timers;
}

/** Given to the gate when its decision is late or failed: fail safe, and say so. */

interface Device {
  status: DeviceStatus;
  link: DeviceLink;
  /** Controllers: set from a failed command until one succeeds (see ControllerDevice). */
  failing?: { since: number; count: number } | undefined;
  /** The port's state last reported: the link repeats `reconnecting` at each retry, which is not news. */
  linkState?: LinkState;
}
interface ReaderDevice extends Device {
  config: ReaderConfig;
  gate: StationGateConfig;
  profile: ReaderProfile;
  framer: Framer | undefined;
  last: { value: string; at: number } | undefined;
}
interface ControllerDevice extends Device {
  profile: GateProfile;
  driver: ControllerDriver;
  feedback: DelimiterFramer | undefined;
  /** Set from a failed command until one succeeds: the board (or its port) is not doing its job. */
  failing: { since: number; count: number } | undefined;
}

export class Station extends EventEmitter<StationEvents> {
  private readonly readers: ReaderDevice[] = [];
  private readonly controllers = new Map<string, ControllerDevice>();
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  /** Set by stop(): the closes that follow are the station's own. */
  private stopping = false;

  constructor(private readonly options: StationOptions) {
    super();
    this.clock = options.clock ?? Date.now;
    this.log = options.logger;
    const openPort = options.openPort ?? openSerialPort;
    const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    const controllerGates = new Map<string, string[]>();
    for (const gate of options.gates) {
      if (gate.controller) controllerGates.set(gate.controller.path, [...(controllerGates.get(gate.controller.path) ?? []), gate.id]);
    }
    for (const gate of options.gates) {
      for (const config of gate.readers) {
        const profile = options.profiles.readers.get(config.profile);
        if (!profile) throw unknownProfile(`reader ${config.id}`, config.profile);
        const link = new DeviceLink(config.path, profile.line, openPort, backoff, this.clock);
        const device: ReaderDevice = {
          status: this.initialStatus(config.id, 'reader', [gate.id], config.path, config.profile),
          link, config, gate, profile, framer: undefined, last: undefined,
        };
        this.readers.push(device);
        this.wireReader(device);
      }
      const c = gate.controller;
      if (c && !this.controllers.has(c.path)) {
        const profile = options.profiles.gates.get(c.profile);
        if (!profile) throw unknownProfile(`gate ${gate.id} controller`, c.profile);
        const gates = controllerGates.get(c.path) ?? [gate.id];
        const id = gates.length === 1 ? `${gate.id}/controller` : `controller@${c.path}`;
        const device: ControllerDevice = {
          status: this.initialStatus(id, 'controller', gates, c.path, c.profile),
          link: new DeviceLink(c.path, profile.line, openPort, backoff, this.clock),
          profile, driver: createControllerDriver(profile), feedback: undefined, failing: undefined,
        };
        this.controllers.set(c.path, device);
        this.wireController(device);
      }
    }
  }

  /** Opens every port; resolves after each port's first attempt. A missing port is retried, not fatal. */
  async start(): Promise<void> {
    await Promise.all(this.devices().map((d) => d.link.start()));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.controllers.values()].map((c) => c.driver.release()));
    await Promise.all(this.devices().map((d) => d.link.stop()));
  }

  status(): DeviceStatus[] {
    return this.devices().map((d) => {
      const out: DeviceStatus = { ...d.status, ...d.link.status(), gates: [...d.status.gates], dropped: { ...d.status.dropped } };
      const failing = d.failing;
      if (d.status.role === 'controller') out.commandFailures = failing?.count ?? 0;
      // An open port whose commands fail is no better than a closed one: say so in its state.
      if (failing !== undefined && out.state === 'open') {
        out.state = 'failing';
        out.since = failing.since;
      }
      return out;
    });
  }

  private devices(): Device[] {
    return [...this.readers, ...this.controllers.values()];
  }

  private initialStatus(id: string, role: DeviceRole, gates: string[], path: string, profile: string): DeviceStatus {
    return { id, role, gates, path, profile, state: 'closed', since: this.clock(), reopens: 0, failedAttempts: 0, count: 0, dropped: {} };
  }

  private wireLink(device: Device): void {
    const { link, status } = device;
    link.on('state', (s) => {
      // A reopened port does not make a failing controller answer: it stays failing until a command succeeds.
      const state = s.state === 'open' && device.failing !== undefined ? 'failing' : s.state;
      // Each attempt is a debug line; the change itself is one 'device' event (logged once by
      // the service as device.state), so a port missing for hours is not a warning a second.
      if (s.state === 'reconnecting') this.log?.debug({ device: status.id, path: status.path, error: s.lastError, attempt: s.failedAttempts }, 'device port unavailable; retrying');
      else this.log?.debug({ device: status.id, path: status.path, state }, 'device port state');
      if (s.state === device.linkState) return;
      device.linkState = s.state;
      const event: DeviceEvent = { id: status.id, role: status.role, path: status.path, state };
      if (s.state !== 'open' && s.lastError !== undefined && !this.stopping) event.error = s.lastError;
      if (this.stopping && state === 'closed') event.expected = true;
      this.emit('device', event);
    });
  }

  private wireReader(device: ReaderDevice): void {
    this.wireLink(device);
    device.link.on('open', () => {
      const framer = createFramer(device.profile.framing, this.options.timers ? { timers: this.options.timers, now: this.clock } : { now: this.clock });
      framer.on('data', (frame: Buffer) => {
        this.onFrame(device, frame, performance.now()).catch((err: unknown) => {
          this.log?.error({ reader: device.config.id, err }, 'tap handling failed');
        });
      });
      framer.on('drop', (drop: FrameDrop) => this.dropped(device, drop.why));
      framer.on('error', (err: Error) => this.log?.error({ reader: device.config.id, err }, 'framer failed'));
      device.framer = framer;
    });
    device.link.on('data', (chunk) => device.framer?.write(chunk));
    device.link.on('closed', () => {
      device.framer?.end();
      device.framer = undefined;
    });
  }

  private wireController(device: ControllerDevice): void {
    this.wireLink(device);
    device.link.on('open', (port) => {
      device.driver.attach(port);
      const fb = device.profile.protocol === 'text' ? device.profile.feedback : null;
      if (fb) {
        const framer = new DelimiterFramer({ delimiter: Buffer.from(fb.delimiter, 'latin1'), maxLength: fb.maxLength });
        framer.on('error', () => undefined);
        framer.on('data', (line: Buffer) => {
          const event = fb.lines[line.toString('latin1').trim()];
          if (event === undefined) return;
          device.status.lastFeedback = event;
          this.emit('feedback', { controller: device.status.id, gates: [...device.status.gates], event });
        });
        device.feedback = framer;
      }
    });
    device.link.on('data', (chunk) => {
      device.driver.feed(chunk);
      device.feedback?.write(chunk);
    });
    device.link.on('closed', () => {
      device.driver.detach();
      device.feedback?.destroy();
      device.feedback = undefined;
    });
  }

  private dropped(device: ReaderDevice, why: FrameDropWhy): void {
    device.status.dropped[why] = (device.status.dropped[why] ?? 0) + 1;
    this.emit('frame-dropped', { reader: device.config.id, why });
  }

  private async onFrame(device: ReaderDevice, frame: Buffer, arrivedAt: number): Promise<void> {
    const read = decodeFrame(device.profile, frame);
    if (read.kind === 'rejected') {
      this.dropped(device, read.why);
      return;
    }
    const now = this.clock();
    const last = device.last;
    if (last && last.value === read.value && now - last.at < device.profile.repeatWindowMs) {
      last.at = now;
      this.dropped(device, 'repeat');
      return;
    }
    device.last = { value: read.value, at: now };
    device.status.count += 1;
    const { gate } = device;
    const credential: Credential = { kind: read.kind, value: read.value, gate: gate.id, reader: device.config.id, at: now };
    const masked = read.kind === 'card' ? maskCardId(read.value) : maskQr(read.value);

    let decision: Decision;
    let fallback = false;
    try {
      decision = await withDeadline(this.options.decide(credential), gate.deadlineMs);
    } catch (err) {
      decision = FALLBACK_DECISION;
      fallback = true;
      this.log?.warn({ gate: gate.id, reader: device.config.id, credential: masked, err }, 'no decision by the deadline; gate told deny');
    }

    let command: TapEvent['command'] = 'none';
    const controller = gate.controller ? this.controllers.get(gate.controller.path) : undefined;
    if (controller && gate.controller) {
      command = await this.command(controller, gate.controller, decision, gate.id);
    }
    this.emit('tap', {
      gate: gate.id, reader: device.config.id, kind: read.kind, masked,
      verdict: decision.verdict, reason: decision.reason, source: decision.source,
      elapsedMs: performance.now() - arrivedAt, command, fallback,
    });
  }

  private async command(controller: ControllerDevice, target: ControllerConfig, decision: Decision, gate: string): Promise<TapEvent['command']> {
    try {
      const result = await controller.driver.command(decision.verdict === 'pass' ? 'open' : 'deny', target, decision.reason);
      if (result === 'sent') {
        controller.status.count += 1;
        this.commandSucceeded(controller);
      }
      return result;
    } catch (err) {
      controller.status.lastCommandError = (err as Error).message;
      this.log?.error({ gate, controller: controller.status.id, verdict: decision.verdict, err }, 'gate command failed');
      this.commandFailed(controller);
      return 'failed';
    }
  }

  private commandFailed(controller: ControllerDevice): void {
    if (controller.failing !== undefined) {
      controller.failing.count += 1;
      return;
    }
    controller.failing = { since: this.clock(), count: 1 };
    const { id, role, path } = controller.status;
    this.log?.warn({ device: id, path, error: controller.status.lastCommandError }, 'gate controller failing: its commands fail or time out');
    this.emit('device', { id, role, path, state: 'failing', ...(controller.status.lastCommandError === undefined ? {} : { error: controller.status.lastCommandError }) });
  }

  private commandSucceeded(controller: ControllerDevice): void {
    if (controller.failing === undefined) return;
    controller.failing = undefined;
    const { id, role, path } = controller.status;
    this.log?.info({ device: id, path }, 'gate controller answering again');
    this.emit('device', { id, role, path, state: controller.link.status().state });
  }
}

export function createStation(options: StationOptions): Station {
  return new Station(options);
}

function unknownProfile(what: string, profile: string): HesGateError {
  return new HesGateError('HG_CONFIG_INVALID', `${what} names profile "${profile}", which is not in devices/`, { details: { profile } });
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`decision took longer than ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
