/** What `ebs-sim bench` shows on a terminal (src/bench/progress-display.ts, cli-progress's bars). */
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { progressDisplay } from '../../src/bench/progress-display.js';

/** A stream that says it is a terminal, keeping everything written to it. */
function fakeTerminal(): { stream: NodeJS.WriteStream; text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 30 }) as unknown as NodeJS.WriteStream;
  let out = '';
  (stream as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
  return { stream, text: () => out };
}

it('on a terminal, shows every line logged up to and after the end, not only those a later redraw caught', async () => {
  const t = fakeTerminal();
  const display = progressDisplay(t.stream);
  display.add('snap-1', 'snap-1 full');
  display.update('snap-1', { progress: 40, bytesPerSec: 1e8, etaSeconds: 1 });
  display.done('snap-1', { progress: 100, bytesPerSec: 1e8, etaSeconds: 0 }, 0.5);
  display.log('chain snapshot 1/1: 1 completed');
  display.stop(); // before any redraw
  display.log('removed what this run made');
  await new Promise((resolve) => setImmediate(resolve));
  expect(t.text()).toContain('snap-1 full  completed in 0.50 s');
  expect(t.text()).toContain('chain snapshot 1/1: 1 completed');
  expect(t.text()).toContain('removed what this run made');
});
