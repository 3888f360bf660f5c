import type { BlockDevice, ExportResolver } from '../../src/nbd/block-device.js';

/** Test-only sparse device: a Map of 64 KiB pages; a missing page is a hole that reads as zeroes. */
export const PAGE = 64 * 1024;

type Op = 'read' | 'write' | 'flush' | 'trim' | 'writeZeroes' | 'blockStatus';

export interface MemoryDeviceOptions {
  readOnly?: boolean;
  blockSize?: number;
  canMultiConn?: boolean;
  description?: string;
}

export class MemoryDevice {
  readonly pages = new Map<number, Buffer>();
  /** Every mutation, in arrival order, for assertions on flags. */
  readonly log: Array<{ op: Op; offset: number; length: number; fua?: boolean; noHole?: boolean }> = [];
  flushes = 0;
  fuaWrites = 0;
  /** Concurrency seen by the device, to check the server's in-flight caps. */
  active = 0;
  maxActive = 0;
  /** Awaited at the start of every call: tests use it to delay, block or fail operations. */
  hook: ((op: Op, offset: number, length: number) => Promise<void>) | undefined;

  constructor(
    readonly size: number,
    readonly options: MemoryDeviceOptions = {},
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    return this.run('read', offset, length, () => {
      const out = Buffer.alloc(length);
      this.eachPage(offset, length, (page, from, to, at) => this.pages.get(page)?.copy(out, at, from, to));
      return out;
    });
  }

  async write(offset: number, data: Buffer, opts: { fua: boolean }): Promise<void> {
    return this.run('write', offset, data.length, () => {
      this.log.push({ op: 'write', offset, length: data.length, fua: opts.fua });
      if (opts.fua) this.fuaWrites++;
      this.eachPage(offset, data.length, (page, from, to, at) => data.copy(this.page(page), from, at, at + to - from));
    });
  }

  async flush(): Promise<void> {
    return this.run('flush', 0, 0, () => {
      this.flushes++;
    });
  }

  async trim(offset: number, length: number, opts: { fua: boolean }): Promise<void> {
    return this.run('trim', offset, length, () => {
      this.log.push({ op: 'trim', offset, length, fua: opts.fua });
      // Advisory: only whole pages are dropped.
      this.eachPage(offset, length, (page, from, to) => {
        if (from === 0 && to === PAGE) this.pages.delete(page);
      });
    });
  }

  async writeZeroes(offset: number, length: number, opts: { fua: boolean; noHole: boolean }): Promise<void> {
    return this.run('writeZeroes', offset, length, () => {
      this.log.push({ op: 'writeZeroes', offset, length, fua: opts.fua, noHole: opts.noHole });
      this.eachPage(offset, length, (page, from, to) => {
        if (from === 0 && to === PAGE && !opts.noHole) this.pages.delete(page);
        else if (this.pages.has(page) || opts.noHole) this.page(page).fill(0, from, to);
      });
    });
  }

  async blockStatus(offset: number, length: number): Promise<Array<{ length: number; hole: boolean; zero: boolean }>> {
    return this.run('blockStatus', offset, length, () => {
      const out: Array<{ length: number; hole: boolean; zero: boolean }> = [];
      this.eachPage(offset, length, (page, from, to) => {
        const hole = !this.pages.has(page);
        const last = out[out.length - 1];
        if (last && last.hole === hole) last.length += to - from;
        else out.push({ length: to - from, hole, zero: hole });
      });
      return out;
    });
  }

  /** The whole device as one buffer (for comparisons). */
  contents(): Buffer {
    const out = Buffer.alloc(this.size);
    for (const [page, buf] of this.pages) buf.copy(out, page * PAGE, 0, Math.min(PAGE, this.size - page * PAGE));
    return out;
  }

  private async run<T>(op: Op, offset: number, length: number, body: () => T): Promise<T> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.hook?.(op, offset, length);
      return body();
    } finally {
      this.active--;
    }
  }

  private page(index: number): Buffer {
    let p = this.pages.get(index);
    if (!p) this.pages.set(index, (p = Buffer.alloc(PAGE)));
    return p;
  }

  /** Calls fn(page, fromInPage, toInPage, offsetInRequest) for each page the range touches. */
  private eachPage(offset: number, length: number, fn: (page: number, from: number, to: number, at: number) => void) {
    for (let pos = offset; pos < offset + length; ) {
      const page = Math.floor(pos / PAGE);
      const from = pos - page * PAGE;
      const to = Math.min(PAGE, from + (offset + length - pos));
      fn(page, from, to, pos - offset);
      pos += to - from;
    }
  }
}

/**
 * Resolver over named MemoryDevices. Each open() returns a fresh handle (so close() is
 * per connection, like the real core) and counts opens and closes.
 */
export function memoryResolver(exports: Record<string, MemoryDevice>) {
  const stats = { opens: 0, closes: 0 };
  const resolver: ExportResolver = {
    async open(name) {
      const dev = Object.hasOwn(exports, name) ? exports[name] : undefined;
      if (!dev) return undefined;
      stats.opens++;
      let closed = false;
      const handle: BlockDevice = {
        size: dev.size,
        readOnly: dev.options.readOnly,
        blockSize: dev.options.blockSize,
        canMultiConn: dev.options.canMultiConn,
        description: dev.options.description,
        read: (o, l) => dev.read(o, l),
        write: (o, d, f) => dev.write(o, d, f),
        flush: () => dev.flush(),
        trim: (o, l, f) => dev.trim(o, l, f),
        writeZeroes: (o, l, f) => dev.writeZeroes(o, l, f),
        blockStatus: (o, l) => dev.blockStatus(o, l),
        async close() {
          if (closed) throw new Error('device closed twice');
          closed = true;
          stats.closes++;
        },
      };
      return handle;
    },
    async list() {
      return Object.entries(exports).map(([name, d]) => ({ name, description: d.options.description }));
    },
  };
  return { resolver, stats };
}
