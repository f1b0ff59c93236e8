/**
 * The edge between hes-gate and a serial line. The station never names `serialport` itself:
 * it is given an `openPort` function returning something `SerialPortLike`, so the binding can be
 * swapped (a real tty, a pseudo-terminal, a mock) exactly as serialport's own binding is.
 */
import { SerialPort, type SerialPortOpenOptions } from 'serialport';
import type { LineSettings } from '../config/device-profiles.js';
import { hangupAwareBinding } from './hangup-binding.js';

export type { LineSettings };

/** An error as serialport reports an unplugged device on `close`. */
export interface DisconnectError extends Error {
  disconnected?: boolean;
}

/** The subset of serialport's `SerialPort` the station uses. Created closed; the station opens it. */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  write(data: Buffer, callback?: (err: Error | null | undefined) => void): boolean;
  close(callback?: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (err?: DisconnectError | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  removeAllListeners(event?: string): this;
}

export type OpenPort = (path: string, settings: LineSettings) => SerialPortLike;

/**
 * Opens a real port by path (no `SerialPort.list()`: it needs udevadm and never lists PTYs), on
 * the binding that reports a hung-up line as a disconnect (see hangup-binding.ts). `SerialPort`
 * spreads its options over its default binding, so `binding` replaces it; its option type omits it.
 */
export const openSerialPort: OpenPort = (path, settings) =>
  new SerialPort({
    binding: hangupAwareBinding,
    path,
    baudRate: settings.baudRate,
    dataBits: settings.dataBits,
    parity: settings.parity,
    stopBits: settings.stopBits,
    autoOpen: false,
  } as SerialPortOpenOptions<typeof SerialPort.binding>) as unknown as SerialPortLike;

/** Write and wait until the bytes are handed to the OS. */
export function writeAsync(port: SerialPortLike, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/** Close, swallowing "not open" (closing is always best effort). */
export function closeQuietly(port: SerialPortLike): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) {
      resolve();
      return;
    }
    port.close(() => resolve());
  });
}
