/**
 * `npm run screenshots`: the web console's screenshots in docs/images/, taken in Debian's headless
 * Chromium (/usr/bin/chromium, driven by playwright-core) against a real server on 127.0.0.1
 * with a lesson's worth of state: an instance with dirty pages, a chain of snapshots, a copy
 * running under a copy rate, a lab run to its end.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { buildApp } from '../src/server/app.js';
import { Simulator } from '../src/simulator.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(REPO, 'docs/images');
const BLOCK = 512 * 1024;
const MiB = 1024 * 1024;

const tmp = mkdtempSync(join(REPO, '.screenshots-'));
const sim = await Simulator.open({ dataDir: join(tmp, 'leveldb'), objectStore: `fs:${join(tmp, 'objects')}`, instanceStateMs: 0, attachmentMs: 0 });
const app = await buildApp(sim);
await app.listen({ host: '127.0.0.1', port: 0 });
const E = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const profile = mkdtempSync(join(tmp, 'chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function act(name: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${E}/console/api/actions/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const out = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${name}: ${JSON.stringify(out)}`);
  return out;
}
const settled = (id: unknown) => sim.engine.statuses.settled(String(id));
/** A block of distinct bytes (so the copy uploads each one). */
const block = (label: string) => {
  const b = Buffer.alloc(BLOCK, label.charCodeAt(0));
  b.write(`${label} ${Math.random()}`, 0);
  return b;
};
async function writeBlocks(volumeId: string, blocks: number[], label: string, same = false): Promise<void> {
  const one = block(label); // `same`: one content in every block, which the copy deduplicates
  for (const i of blocks) await fetch(`${E}/data/volumes/${volumeId}?offset=${i * BLOCK}`, { method: 'PUT', body: same ? one : block(label) });
}
async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(OUT, name), fullPage });
  process.stdout.write(`docs/images/${name}\n`);
}

try {
  mkdirSync(OUT, { recursive: true });
  // An instance with a data volume: a chain of three snapshots, then writes since, some still dirty in the page cache.
  const { instanceId } = (await act('run-instance', {})) as { instanceId: string };
  const { volumeId } = (await act('create-volume', { sizeGiB: 2, volumeType: 'gp3' })) as { volumeId: string };
  await act('attach', { volumeId, instanceId, device: 'sdf' });
  await writeBlocks(volumeId, [...Array(24).keys()].map((i) => i * 3), 'a');
  const s1 = (await act('snapshot', { volumeId, description: 'nightly: Monday' })).snapshotId;
  await settled(s1);
  await writeBlocks(volumeId, [...Array(30).keys()].map((i) => 400 + i * 2), 'b');
  await writeBlocks(volumeId, [3, 6, 9, 12], 'b');
  const s2 = (await act('snapshot', { volumeId, description: 'nightly: Tuesday' })).snapshotId;
  await settled(s2);
  await writeBlocks(volumeId, [...Array(40).keys()].map((i) => 1500 + i), 'c', true);
  const s3 = (await act('snapshot', { volumeId, description: 'nightly: Wednesday' })).snapshotId;
  await settled(s3);
  await writeBlocks(volumeId, [...Array(12).keys()].map((i) => 900 + i * 5), 'd');
  for (const i of [2000, 2002, 2004, 2006, 2100, 2101, 2102]) {
    await fetch(`${E}/data/instances/${instanceId}/devices/sdf?offset=${i * BLOCK}`, { method: 'PUT', body: 'not yet fsynced' });
  }
  // A second, larger volume whose snapshot copies slowly.
  const { volumeId: big } = (await act('create-volume', { sizeGiB: 8, volumeType: 'gp3' })) as { volumeId: string };
  await fetch(`${E}/data/volumes/${big}?offset=0`, { method: 'PUT', body: Buffer.concat([...Array(48).keys()].map((i) => block(`big${i}`))) });

  const page = await browser.newPage();
  await page.goto(`${E}/console/`);
  await page.locator(`#volumes tr[data-volume="${big}"]`).waitFor();
  sim.controls.setCopyRate(3 * MiB);
  const slow = (await act('snapshot', { volumeId: big, description: 'database, before the upgrade' })).snapshotId;
  await page.locator(`#snapshots .progress[data-snapshot="${String(slow)}"]`).waitFor();
  await page.waitForFunction((id) => Number(document.querySelector(`#snapshots .progress[data-snapshot="${id}"]`)?.getAttribute('aria-valuenow')) >= 30, String(slow), { timeout: 60_000 });
  await shot(page, 'console-overview.png', true);
  sim.controls.setCopyRate(8 * MiB); // a faster link for the rest: the chart shows the change
  await settled(slow);
  await page.waitForTimeout(600); // the last sample

  await page.goto(`${E}/console/#/volumes/${volumeId}`);
  await page.locator('#map .map i[data-state="dirty"]').first().waitFor();
  await page.locator('#map .map i[data-i="3"]').click(); // pinned below the map
  await page.locator('#map .map i[data-i="1539"]').hover();
  await page.screenshot({ path: join(OUT, 'console-block-map.png'), fullPage: true });
  process.stdout.write('docs/images/console-block-map.png\n');

  await page.goto(`${E}/console/#/snapshots/${String(slow)}`);
  await page.locator('#chart .uplot').waitFor();
  await shot(page, 'console-snapshot-chart.png');

  await page.goto(`${E}/console/#/snapshots/${String(s3)}`);
  await page.locator('#map .map i').first().waitFor();
  await page.selectOption('#compare-with', String(s1));
  await page.locator('#compare').click();
  await page.locator('#compare-out [data-changed-count]').waitFor();
  await shot(page, 'console-snapshot-compare.png', true);

  await page.goto(`${E}/console/#/labs/page-cache`);
  await page.locator('#run-all').click();
  await page.locator('#claim[data-result]').waitFor({ timeout: 60_000 });
  await shot(page, 'console-lab.png', true);
} finally {
  await browser.close();
  await app.close();
  await sim.close();
  rmSync(tmp, { recursive: true, force: true });
}
