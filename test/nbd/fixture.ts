import { afterEach } from 'vitest';
import { startNbdServer, type NbdServer } from '../../src/nbd/server.js';
import { MemoryDevice, memoryResolver } from './memory-device.js';
import { RawClient } from './raw-client.js';

export const MiB = 1024 * 1024;

let current: NbdServer | undefined;

/**
 * A fresh server per test, so device counters and hooks never leak between tests; it is
 * closed after each test (register with useServerPerTest() in the test file).
 */
export async function setup(devices: Record<string, MemoryDevice>, opts: { shutdownGraceMs?: number } = {}) {
  const { resolver, stats } = memoryResolver(devices);
  const server = await startNbdServer({ port: 0, resolver, ...opts });
  current = server;
  const connect = async (name: string, o: { structured?: boolean; meta?: boolean } = {}) => {
    const c = await RawClient.handshake(server.port);
    await c.go(name, o);
    return c;
  };
  return { server, stats, connect };
}

export function useServerPerTest(): void {
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}

/** A promise the test opens by hand: device hooks await it to hold requests in flight. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}
