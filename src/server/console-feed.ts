/**
 * Server-sent events for the console: each open page subscribes to its account and region, and
 * is sent the overview whenever it changed. The server looks for changes (one overview per
 * account and region watched, however many pages) at once after a console action, and on a timer
 * that backs off with the overview's cost and while nothing changes (to 1 s): the pages never poll.
 */
import type { FastifyReply } from 'fastify';
import type { CallerContext, Simulator } from '../simulator.js';

/** Fastest look for changes, and how many times its own cost it waits between two looks. */
const MIN_INTERVAL_MS = 250;
const COST_FACTOR = 4;
/** Looks that find nothing changed back off, doubling up to this; a change or an action resets it. */
const IDLE_INTERVAL_MS = 1000;
const HEARTBEAT_MS = 15_000;

interface Watch {
  ctx: CallerContext;
  replies: Set<FastifyReply>;
  last?: string;
}

/** Streams that skipped an overview while full: sent the newest when they drain. */
const behind = new WeakSet<FastifyReply>();

/**
 * Writes to a page's stream unless it has not taken the last write yet (a page that stopped
 * reading would make the server buffer every overview, megabytes each): then an overview is
 * skipped, and the newest sent once the stream drains. So at most about one is ever buffered.
 */
function send(reply: FastifyReply, text: string, overview = true): void {
  const raw = reply.raw;
  if (raw.destroyed || raw.writableEnded) return;
  if (raw.writableNeedDrain) {
    if (overview) behind.add(reply);
    return;
  }
  raw.write(text);
}

export class ConsoleFeed {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private idleMs = MIN_INTERVAL_MS;

  constructor(private readonly sim: Simulator) {}

  /** Streams overviews of `ctx`'s resources to `reply` (already hijacked) until it closes. */
  subscribe(ctx: CallerContext, reply: FastifyReply): void {
    const key = `${ctx.accountId}|${ctx.region}`;
    let w = this.watches.get(key);
    if (!w) this.watches.set(key, (w = { ctx, replies: new Set() }));
    w.replies.add(reply);
    const watch = w;
    reply.raw.on('close', () => {
      watch.replies.delete(reply);
      if (watch.replies.size === 0) this.watches.delete(key);
    });
    // Overviews skipped while it was full: the newest, when it has room again.
    reply.raw.on('drain', () => {
      if (behind.delete(reply) && watch.last !== undefined) send(reply, event('overview', watch.last));
    });
    // A new page gets the current overview at once, whatever the others saw.
    try {
      send(reply, event('overview', watch.last ?? JSON.stringify(this.sim.services.console.overview(ctx))));
    } catch {
      // resetting: the next look sends it
    }
    this.heartbeat ??= setInterval(() => this.each((r) => send(r, ': keep-alive\n\n', false)), HEARTBEAT_MS).unref();
    this.schedule(0);
  }

  /** Look for changes now (after an action), not at the next tick. */
  poke(): void {
    this.idleMs = MIN_INTERVAL_MS;
    this.schedule(0);
  }

  /** Ends every stream (the server is closing: open streams would hold it up). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.each((r) => r.raw.end());
    this.watches.clear();
  }

  private each(fn: (reply: FastifyReply) => void): void {
    for (const w of this.watches.values()) for (const r of w.replies) fn(r);
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.watches.size === 0) return;
    if (this.running) return; // the running look reschedules itself
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.look(), delayMs);
    this.timer.unref();
  }

  private async look(): Promise<void> {
    this.running = true;
    const started = performance.now();
    let changed = false;
    try {
      for (const w of this.watches.values()) {
        let json: string;
        try {
          json = JSON.stringify(this.sim.services.console.overview(w.ctx));
        } catch {
          continue; // resetting or closing
        }
        if (json === w.last) continue;
        changed = true;
        w.last = json;
        const text = event('overview', json);
        for (const r of w.replies) send(r, text);
      }
    } finally {
      this.running = false;
    }
    this.idleMs = changed ? MIN_INTERVAL_MS : Math.min(IDLE_INTERVAL_MS, this.idleMs * 2);
    this.schedule(Math.max(this.idleMs, COST_FACTOR * (performance.now() - started)));
  }
}

function event(name: string, json: string): string {
  return `event: ${name}\ndata: ${json}\n\n`;
}
