/**
 * Lets modbus-serial's `ModbusRTU` client (frames, CRC, response checks, timeouts) run over a
 * port the station already opened and keeps open. modbus-serial expects its port to hand it
 * one whole response per `data` event; on a serial line responses arrive in pieces, so this
 * adapter reassembles them by the length the request implies (as modbus-serial's own
 * RTUBufferedPort does for the ports it opens itself).
 */
import { EventEmitter } from 'node:events';
import type { SerialPortLike } from './serial-port.js';

const MAX_BUFFER = 256;
const EXCEPTION_LENGTH = 5;

export class RtuPortAdapter extends EventEmitter {
  private buffer = Buffer.alloc(0);
  private unit = -1;
  private fc = -1;
  private expected = 0;

  constructor(private readonly port: SerialPortLike) {
    super();
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  /** The station owns the port: "opening" an already-open port succeeds at once. */
  open(callback: (err: Error | null) => void): void {
    callback(this.port.isOpen ? null : new Error('port not open'));
  }

  close(callback?: (err: Error | null) => void): void {
    callback?.(null);
  }

  write(data: Buffer): void {
    this.unit = data[0] ?? -1;
    this.fc = data[1] ?? -1;
    this.expected = expectedResponseLength(data);
    this.buffer = Buffer.alloc(0);
    this.port.write(data);
  }

  /** Bytes from the line. */
  feed(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > MAX_BUFFER) this.buffer = this.buffer.subarray(-MAX_BUFFER);
    for (let i = 0; i + EXCEPTION_LENGTH <= this.buffer.length; i++) {
      if (this.buffer[i] !== this.unit) continue;
      const code = this.buffer[i + 1];
      if (code === this.fc && this.expected > 0 && i + this.expected <= this.buffer.length) {
        this.emitFrame(i, this.expected);
        return;
      }
      if (code === (this.fc | 0x80)) {
        this.emitFrame(i, EXCEPTION_LENGTH);
        return;
      }
    }
  }

  private emitFrame(start: number, length: number): void {
    const frame = Buffer.from(this.buffer.subarray(start, start + length));
    this.buffer = this.buffer.subarray(start + length);
    this.emit('data', frame);
  }
}

function expectedResponseLength(request: Buffer): number {
  switch (request[1]) {
    case 1:
    case 2:
      return 3 + Math.ceil(request.readUInt16BE(4) / 8) + 2;
    case 3:
    case 4:
      return 3 + 2 * request.readUInt16BE(4) + 2;
    case 5:
    case 6:
    case 15:
    case 16:
      return 8;
    default:
      return 0;
  }
}
