/**
 * Drives a gate controller over its (shared) port: turns "open this gate" / "show a deny" into
 * what the gate profile says — a line of text, or a Modbus coil pulse sent with modbus-serial.
 * Commands on one port are serialised (an RS-485 bus or relay board answers one at a time).
 * A pulse's "off" is owed until sent: if the port drops with a coil on, it is sent on reopen,
 * and on stop it is sent at once.
 */
import modbusSerial from 'modbus-serial';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import type { Reason } from '../types.js';
import type { ControllerConfig } from './config.js';
import type { GateProfile, ModbusGateProfile, TextGateProfile } from '../config/device-profiles.js';
import { RtuPortAdapter } from './modbus-port.js';
import { writeAsync, type SerialPortLike } from './serial-port.js';

// modbus-serial is CommonJS whose typings declare an ES default export: take the class as it is at run time.
const ModbusRTU = modbusSerial as unknown as new (port: unknown) => ModbusClient;

export interface ControllerDriver {
  attach(port: SerialPortLike): void;
  detach(): void;
  feed(chunk: Buffer): void;
  /** Resolves once the command is on the wire (and, for Modbus, acknowledged). */
  command(action: 'open' | 'deny', target: ControllerConfig, reason: Reason): Promise<'sent' | 'none'>;
  /** Turn off every coil still on. */
  release(): Promise<void>;
}

export function createControllerDriver(profile: GateProfile): ControllerDriver {
  return profile.protocol === 'text' ? new TextDriver(profile) : new ModbusDriver(profile);
}

class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function fillTemplate(text: string, target: ControllerConfig, reason: Reason): string {
  return text.replaceAll('{passage}', target.passage ?? 'A').replaceAll('{reason}', reason);
}

class TextDriver implements ControllerDriver {
  private port: SerialPortLike | undefined;
  constructor(private readonly profile: TextGateProfile) {}
  attach(port: SerialPortLike): void {
    this.port = port;
  }
  detach(): void {
    this.port = undefined;
  }
  feed(): void {
    // Feedback lines are framed by the station (they are events, not replies).
  }
  async command(action: 'open' | 'deny', target: ControllerConfig, reason: Reason): Promise<'sent' | 'none'> {
    const spec = action === 'open' ? this.profile.open : this.profile.deny;
    if (!spec) return 'none';
    if (!this.port) throw new Error('controller port is not open');
    await writeAsync(this.port, Buffer.from(fillTemplate(spec.text, target, reason), 'latin1'));
    return 'sent';
  }
  async release(): Promise<void> {}
}

class ModbusDriver implements ControllerDriver {
  private client: ModbusClient | undefined;
  private adapter: RtuPortAdapter | undefined;
  private readonly queue = new Serial();
  /** `unit:coil` → timer of a pending "off". */
  private readonly owedOff = new Map<string, ReturnType<typeof setTimeout> | undefined>();

  constructor(private readonly profile: ModbusGateProfile) {}

  attach(port: SerialPortLike): void {
    this.adapter = new RtuPortAdapter(port);
    const client = new ModbusRTU(this.adapter);
    client.setTimeout(this.profile.responseTimeoutMs);
    client.on('error', () => undefined);
    client.open();
    this.client = client;
    for (const [key, timer] of this.owedOff) if (timer === undefined) this.sendOff(key);
  }

  detach(): void {
    this.client = undefined;
    this.adapter = undefined;
    for (const [key, timer] of this.owedOff) {
      if (timer !== undefined) clearTimeout(timer);
      this.owedOff.set(key, undefined);
    }
  }

  feed(chunk: Buffer): void {
    this.adapter?.feed(chunk);
  }

  async command(action: 'open' | 'deny', target: ControllerConfig): Promise<'sent' | 'none'> {
    const unit = target.unit ?? this.profile.unit;
    const spec = action === 'open' ? this.profile.open : this.profile.deny;
    if (!spec) return 'none';
    const coil = action === 'open' ? (target.openCoil ?? spec.coil) : (target.denyCoil ?? spec.coil);
    const key = `${unit}:${coil}`;
    const pending = this.owedOff.get(key);
    if (pending !== undefined) clearTimeout(pending);
    this.owedOff.set(key, undefined);
    try {
      await this.write(unit, coil, true);
    } finally {
      if (this.owedOff.has(key)) this.owedOff.set(key, setTimeout(() => this.sendOff(key), spec.pulseMs));
    }
    return 'sent';
  }

  async release(): Promise<void> {
    const keys = [...this.owedOff.keys()];
    for (const key of keys) {
      const timer = this.owedOff.get(key);
      if (timer !== undefined) clearTimeout(timer);
    }
    await Promise.allSettled(keys.map((key) => this.sendOff(key)));
  }

  private sendOff(key: string): Promise<void> {
    const [unit, coil] = key.split(':').map(Number) as [number, number];
    return this.write(unit, coil, false).then(
      () => {
        this.owedOff.delete(key);
      },
      () => {
        // Still owed: sent again when the port reopens.
        if (this.owedOff.has(key)) this.owedOff.set(key, undefined);
      },
    );
  }

  private write(unit: number, coil: number, state: boolean): Promise<void> {
    return this.queue.run(async () => {
      const client = this.client;
      if (!client?.isOpen) throw new Error('controller port is not open');
      client.setID(unit);
      await client.writeCoil(coil, state);
    });
  }
}
