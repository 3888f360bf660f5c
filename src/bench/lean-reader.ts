/**
 * The bench's reader of data-plane GETs: HTTP/1.1 on kept-alive sockets, each response's bytes
 * counted as they land in one buffer per socket (Node's `onread`) and dropped, as `curl -o
 * /dev/null` would. Not fetch: on 2 cores the client shares the CPU with the server it measures,
 * and fetch (or node:http) makes a fresh buffer per 64 KiB received and passes it through
 * streams. Reading a restored 1 GiB volume, fetch's client took ~40% of the machine's CPU
 * samples; restore reads ran at 242-284 MB/s through fetch against 431-545 MB/s through a first
 * version of this reader (alternate runs), and at 586-604 MB/s through this one. Only what the
 * data plane answers is handled: a Content-Length body.
 */
import { connect, type Socket } from 'node:net';

/** One connection: whose response it is reading now, if any. */
interface Conn {
  socket: Socket;
  onBytes: ((bytes: Buffer, n: number) => void) | undefined;
  onEnd: ((err: Error) => void) | undefined;
}

const HEAD_END = '\r\n\r\n';
const MAX_HEAD = 64 * 1024;

export class LeanReader {
  readonly #idle: Conn[] = [];
  readonly #all = new Set<Conn>();
  readonly #host: string;
  readonly #port: number;

  /** `endpoint`: http://host:port (the data plane has no TLS). */
  constructor(endpoint: string) {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:') throw new Error(`the bench reads over plain HTTP, not ${url.protocol}`);
    this.#host = url.hostname;
    this.#port = Number(url.port || 80);
  }

  /** GET `path`; resolves to the number of body bytes, rejects on a status other than 200. */
  async get(path: string): Promise<number> {
    const reused = this.#idle.pop();
    try {
      return await this.#exchange(reused ?? this.#open(), path);
    } catch (err) {
      // A kept-alive socket the server closed meanwhile: a GET may be sent again, once.
      if (reused && err instanceof ConnectionClosed && err.beforeResponse) return this.#exchange(this.#open(), path);
      throw err;
    }
  }

  close(): void {
    for (const c of this.#all) c.socket.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }

  #open(): Conn {
    const conn: Conn = { socket: undefined as unknown as Socket, onBytes: undefined, onEnd: undefined };
    conn.socket = connect({
      host: this.#host,
      port: this.#port,
      onread: {
        buffer: Buffer.allocUnsafe(256 * 1024),
        callback: (n, buf) => {
          conn.onBytes?.(buf as Buffer, n);
          return true; // keep reading
        },
      },
    });
    const gone = (err?: Error) => {
      this.#all.delete(conn);
      const i = this.#idle.indexOf(conn);
      if (i >= 0) this.#idle.splice(i, 1);
      conn.onEnd?.(err ?? new ConnectionClosed('the server closed the connection', false));
    };
    conn.socket.on('error', gone);
    conn.socket.on('close', () => gone());
    this.#all.add(conn);
    return conn;
  }

  #exchange(conn: Conn, path: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let head: Buffer | undefined; // a response head split over reads, so far
      let status = 0;
      let length = -1;
      let got = 0;
      const error: Buffer[] = [];
      const finish = (err?: Error) => {
        conn.onBytes = undefined;
        conn.onEnd = undefined;
        if (err) {
          conn.socket.destroy();
          return reject(err);
        }
        this.#idle.push(conn);
        if (status === 200) resolve(got);
        else reject(new Error(`GET ${path}: ${status} ${Buffer.concat(error).toString()}`));
      };
      conn.onEnd = (err) => finish(err instanceof ConnectionClosed ? new ConnectionClosed(err.message, length < 0 && !head) : err);
      conn.onBytes = (buf, n) => {
        let at = 0;
        if (length < 0) {
          const read = buf.subarray(0, n);
          const pending = head ? Buffer.concat([head, read]) : read;
          const end = pending.indexOf(HEAD_END);
          if (end < 0) {
            if (pending.length > MAX_HEAD) return finish(new Error(`GET ${path}: no end of the response head in ${MAX_HEAD} bytes`));
            head = Buffer.from(pending); // `buf` is read into again
            return;
          }
          const lines = pending.toString('latin1', 0, end).split('\r\n');
          status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0] ?? '')?.[1] ?? 0);
          const declared = lines.find((l) => /^content-length:/i.test(l))?.split(':')[1]?.trim();
          if (!status || declared === undefined || !/^\d+$/.test(declared)) return finish(new Error(`GET ${path}: not a response with a Content-Length: ${lines[0]}`));
          length = Number(declared);
          at = n - (pending.length - end - HEAD_END.length); // where the body starts in this read
        }
        const take = Math.min(n - at, length - got);
        if (status !== 200) error.push(Buffer.from(buf.subarray(at, at + take)));
        got += take;
        if (got === length) finish();
      };
      conn.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\n\r\n`);
    });
  }
}

class ConnectionClosed extends Error {
  constructor(
    message: string,
    /** No byte of the response had come. */
    readonly beforeResponse: boolean,
  ) {
    super(message);
  }
}
