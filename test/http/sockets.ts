/**
 * Raw TCP clients for the HTTP limits tests: what a slow or hostile client does, byte by byte,
 * and what the server did to the connection (its answer, and when it closed it).
 */
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closed the connection, with ms since the connection was made. */
  closed: Promise<number>;
  write(text: string): void;
  /** Sends `text` one byte every `everyMs` until the connection closes. */
  drip(text: string, everyMs: number): void;
  destroy(): void;
}

/** `localAddress`: the client's own address (another loopback address, to be a second client on this machine). */
export function rawConnect(url: string, localAddress?: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ...(localAddress === undefined ? {} : { localAddress }) });
    let data = '';
    let dripTimer: ReturnType<typeof setInterval> | undefined;
    const openedAt = performance.now();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) =>
      socket.once('close', () => {
        if (dripTimer !== undefined) clearInterval(dripTimer);
        r(performance.now() - openedAt);
      }),
    );
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed,
        write: (text) => void socket.write(text),
        drip: (text, everyMs) => {
          let i = 0;
          dripTimer = setInterval(() => {
            if (socket.destroyed || i >= text.length) return;
            socket.write(text[i++]!);
          }, everyMs);
        },
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}

/** The JSON body of a raw HTTP/1.1 answer. */
export function bodyOf(raw: string): any {
  const i = raw.indexOf('\r\n\r\n');
  return JSON.parse(raw.slice(i + 4));
}

/**
 * Sends `request` on `c` and resolves with the whole answer once it is in: headers, then the body
 * by its Content-Length, or a chunked body up to its last chunk.
 */
export function answerTo(c: RawConnection, request: string): Promise<string> {
  const before = c.received().length;
  return new Promise((resolve) => {
    const check = (): void => {
      const got = c.received().slice(before);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /\r\ncontent-length: (\d+)/i.exec(got.slice(0, end));
      const body = got.slice(end + 4);
      const complete = length !== null ? Buffer.byteLength(body) >= Number(length[1]) : /\r\ntransfer-encoding: chunked/i.test(got.slice(0, end)) ? body.includes('0\r\n\r\n') : true;
      if (complete) {
        c.socket.off('data', check);
        resolve(got);
      }
    };
    c.socket.on('data', check);
    c.write(request);
  });
}
