/**
 * The station runtime: serial readers in, gate commands out.
 *
 *   reader port ─> DeviceLink ─> framer ─> decodeFrame ─> repeat filter ─> decide() ─> controller
 *   (reopened with back-off)     (bounded)  (card id /     (per reader)     (injected,   (text line or
 *                                            QR payload)                    deadline)    Modbus pulse)
 *
 * Each kind of device is wired in its own module (reader-device.ts, controller-device.ts); this
 * one builds them from the configuration, starts and stops them, and reports their status.
 *
 * It never throws after start and never emits 'error': a lost port becomes a 'device' event and
 * a retry; a bad frame becomes a 'frame-dropped' event. Events and `status()` carry no card id
 * or QR payload (only masked forms), so observability can log them as they are.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Profiles } from '../config/device-profiles.js';
import { HesGateError } from '../errors.js';
import type { Clock, Credential, Decision } from '../types.js';
import type { StationGateConfig } from './config.js';
import { createControllerDriver } from './controller.js';
import { sendCommand, wireController, type ControllerDevice } from './controller-device.js';
import { DEFAULT_BACKOFF, DeviceLink, type Backoff } from './device-link.js';
import type { DeviceStatus, StationEvents } from './events.js';
import type { Timers } from './framing/index.js';
import { wireReader, type ReaderContext, type ReaderDevice } from './reader-device.js';
import { openSerialPort, type OpenPort } from './serial-port.js';
import { initialStatus, type Device } from './station-device.js';

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

export class Station extends EventEmitter<StationEvents> {
  private readonly readers: ReaderDevice[] = [];
  private readonly controllers = new Map<string, ControllerDevice>();
  /** Set by stop(): the closes that follow are the station's own. */
  private stopping = false;

  constructor(options: StationOptions) {
    super();
    const clock = options.clock ?? Date.now;
    const openPort = options.openPort ?? openSerialPort;
    const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    const ctx: ReaderContext = {
      clock,
      log: options.logger,
      emit: this.emit.bind(this),
      stopping: () => this.stopping,
      timers: options.timers,
      decide: options.decide,
      command: (gate, decision) => {
        const controller = gate.controller ? this.controllers.get(gate.controller.path) : undefined;
        return controller && gate.controller ? sendCommand(controller, gate.controller, decision, gate.id, ctx) : 'none';
      },
    };
    const controllerGates = new Map<string, string[]>();
    for (const gate of options.gates) {
      if (gate.controller) controllerGates.set(gate.controller.path, [...(controllerGates.get(gate.controller.path) ?? []), gate.id]);
    }
    for (const gate of options.gates) {
      for (const config of gate.readers) {
        const profile = options.profiles.readers.get(config.profile);
        if (!profile) throw unknownProfile(`reader ${config.id}`, config.profile);
        const link = new DeviceLink(config.path, profile.line, openPort, backoff, clock);
        const device: ReaderDevice = {
          status: initialStatus(config.id, 'reader', [gate.id], config.path, config.profile, clock()),
          link, config, gate, profile, framer: undefined, last: undefined,
        };
        this.readers.push(device);
        wireReader(device, ctx);
      }
      const c = gate.controller;
      if (c && !this.controllers.has(c.path)) {
        const profile = options.profiles.gates.get(c.profile);
        if (!profile) throw unknownProfile(`gate ${gate.id} controller`, c.profile);
        const gates = controllerGates.get(c.path) ?? [gate.id];
        const id = gates.length === 1 ? `${gate.id}/controller` : `controller@${c.path}`;
        const device: ControllerDevice = {
          status: initialStatus(id, 'controller', gates, c.path, c.profile, clock()),
          link: new DeviceLink(c.path, profile.line, openPort, backoff, clock),
          profile, driver: createControllerDriver(profile), feedback: undefined, failing: undefined,
        };
        this.controllers.set(c.path, device);
        wireController(device, ctx);
      }
    }
  }

  /** Opens every port; resolves after each port's first attempt. A missing port is retried, not fatal. */
  async start(): Promise<void> {
    await Promise.all(this.devices().map((d) => d.link.start()));
  }

  async stop(): Promise<void> {
    this.stopping = true;
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
}

export function createStation(options: StationOptions): Station {
  return new Station(options);
}

function unknownProfile(what: string, profile: string): HesGateError {
  return new HesGateError('HG_CONFIG_INVALID', `${what} names profile "${profile}", which is not in devices/`, { details: { profile } });
}
