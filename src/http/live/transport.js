/**
 * The live page's connection to `/v1/live/events`: fetch() with a streaming body reader rather
 * than EventSource, so the operator token goes in an Authorization header and never appears in
 * a URL or an access log. Server-Sent Events blocks are parsed here; a dropped or silent stream
 * is reopened with a growing wait (the server's `retry`, doubled up to 30 s).
 *
 * @typedef {'connecting' | 'live' | 'stale' | 'down' | 'locked'} ConnState
 */

const STALE_AFTER_MS = 20000;

/**
 * @typedef {object} StreamOptions
 * @property {() => string} token the operator token ('' when none)
 * @property {(name: string, data: string) => void} onEvent one event of the stream
 * @property {(state: ConnState) => void} onState the connection's state changed
 * @property {() => void} onOpen a connection was accepted (its first batch is the feed's history)
 * @property {() => void} onRefused the token was missing or refused (401)
 */

/** @param {StreamOptions} o */
export function openStream(o) {
  let retryMs = 3000;
  let backoff = 0;
  let lastMessageAt = 0;
  /** @type {AbortController | null} */
  let controller = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let reconnectTimer = null;

  /** One Server-Sent Events block (the lines between two blank lines). @param {string} block */
  function parseBlock(block) {
    let name = 'message';
    /** @type {string[]} */
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.charAt(0) === ':') continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
    }
    if (data.length > 0) {
      lastMessageAt = Date.now();
      o.onEvent(name, data.join('\n'));
    }
  }

  /** @param {ReadableStream<Uint8Array>} body */
  async function read(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      lastMessageAt = Date.now();
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        parseBlock(block);
      }
    }
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    const wait = Math.min(30000, retryMs * Math.pow(2, backoff));
    backoff = Math.min(backoff + 1, 4);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void connect();
    }, wait);
  }

  async function connect() {
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    o.onState('connecting');
    /** @type {Record<string, string>} */
    const headers = { Accept: 'text/event-stream' };
    const token = o.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const res = await fetch('/v1/live/events', { headers, cache: 'no-store', signal: mine.signal });
      if (res.status === 401) {
        o.onState('locked');
        o.onRefused();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      o.onOpen();
      o.onState('live');
      backoff = 0;
      lastMessageAt = Date.now();
      await read(res.body);
    } catch {
      // A connection we aborted ourselves (a newer one replaced it) is not a failure.
      if (mine.signal.aborted && controller !== mine) return;
    }
    if (controller === mine) {
      controller = null;
      o.onState('down');
      scheduleReconnect();
    }
  }

  /** A stream that stays silent past the heartbeat is dead even if the socket looks open. */
  function watch() {
    if (controller && lastMessageAt && Date.now() - lastMessageAt > STALE_AFTER_MS) {
      o.onState('stale');
      const c = controller;
      controller = null;
      c.abort();
      scheduleReconnect();
    }
  }

  setInterval(watch, 2000);
  void connect();
  return {
    /** Opens a new connection now (a new token was given), replacing the current one. */
    reconnect() {
      void connect();
    },
  };
}
