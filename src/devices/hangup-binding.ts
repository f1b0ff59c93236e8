/**
 * serialport's own Linux/macOS binding with one change: a read that returns end-of-file ends
 * the port as a disconnect instead of being retried.
 *
 * A tty whose other side has hung up (USB-serial adapter unplugged, socat killed) answers every
 * read with 0 bytes. `@serialport/bindings-cpp` 13 (`unixRead`) retries a 0-byte read at once
 * and for ever (upstream serialport/bindings-cpp#162, fix #164 closed unmerged): tens of
 * thousands of reads a second on the libuv thread pool, a promise chain that only grows, and no
 * `close` ever, so a reader hes-gate never writes to is never seen unplugged. A read parked on the
 * poller is told of a hangup (EBADF, already a disconnect); a read started after it (the hangup
 * came while a chunk was being delivered) met the loop.
 *
 * Sound because hes-gate opens every port non-blocking with VMIN=1 (the binding's default, never
 * overridden in `openSerialPort`): "no data yet" is EAGAIN, so 0 bytes means only end-of-file.
 * The stream (`@serialport/stream`) turns any read error without `canceled` into
 * `close` with a `disconnected` error, which the device link reopens with its back-off.
 */
import { read } from 'node:fs';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';

const readAsync = promisify(read);

export const HANGUP_MESSAGE = 'device hung up (read returned end-of-file)';

type ReadResult = { bytesRead: number; buffer: Buffer };

/** The slice of bindings-cpp's `LinuxPortBinding`/`DarwinPortBinding` this read needs. */
interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  readonly poller: { once(event: 'readable', listener: (err?: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
}

interface PortBinding {
  open(options: object): Promise<UnixPortBinding>;
  list(): Promise<unknown[]>;
}

/** What the stream must not treat as a disconnect (the port was closed by us). */
const canceled = (): Error => Object.assign(new Error('Port is not open'), { canceled: true });

/** Same steps as bindings-cpp's `unixRead` (read; on EAGAIN wait for the poller), but 0 bytes = hangup. */
async function readUntilData(port: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw canceled();
    let bytesRead: number;
    try {
      ({ bytesRead } = await readAsync(port.fd, buffer, offset, length, null));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
      if (!port.isOpen) throw canceled();
      await new Promise<void>((resolve, reject) => port.poller.once('readable', (e) => (e ? reject(e) : resolve())));
      continue;
    }
    if (bytesRead === 0) throw Object.assign(new Error(HANGUP_MESSAGE), { code: 'EOF', disconnect: true });
    return { bytesRead, buffer };
  }
}

function hangupAware(base: PortBinding): PortBinding {
  return {
    list: () => base.list(),
    async open(options) {
      const port = await base.open(options);
      // Only the read is replaced; its one caller is serialport's stream, which passes a valid slice of its pool.
      port.read = (buffer, offset, length) => readUntilData(port, buffer, offset, length);
      return port;
    },
  };
}

/** The binding `openSerialPort` gives serialport. Windows reads are not `unixRead`: left as they are. */
export const hangupAwareBinding: unknown = process.platform === 'win32' ? SerialPort.binding : hangupAware(SerialPort.binding as unknown as PortBinding);
