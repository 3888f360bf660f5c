// A snapshot's page: lineage, uploaded vs shared blocks, sizes, progress and throughput over time
// (uPlot), Compare with another snapshot of its lineage (ListChangedBlocks' answer), restore, delete.
import { action, getJson, state } from './api.js';
import { drawBlockMap } from './blockmap.js';
import { badge, busy, bytes, esc, link, progressBar, toast } from './ui.js';

/** Bytes uploaded over the copy's whole time, start to completion. */
function averageRate(s) {
  const seconds = Math.max(0.001, (Date.parse(s.completionTime) - Date.parse(s.startTime)) / 1000);
  return bytes(s.bytesUploaded / seconds) + '/s';
}

export function renderSnapshot(main, snapshotId) {
  main.innerHTML = `
    <p><a href="#/">← Overview</a></p>
    <h1>Snapshot <span class="mono">${esc(snapshotId)}</span></h1>
    <p class="sub" id="snap-info">…</p>
    <div class="figures" id="snap-figures"></div>
    <h2>Lineage</h2>
    <div class="card lineage" id="lineage"></div>
    <div class="grid2">
      <div><h2>Progress and throughput</h2><div class="chart" id="chart"><p class="muted">No samples: this copy ran before the server last started (its progress is kept in memory).</p></div></div>
      <div>
        <h2>Compare</h2>
        <div class="card">
          <div class="row">
            <label>With<select id="compare-with"></select></label>
            <button id="compare" type="button">Compare</button>
            <button id="restore" type="button">Restore</button>
            <button id="delete" type="button" class="danger">Delete</button>
          </div>
          <p id="compare-out" class="muted">Lists the blocks that differ, as ListChangedBlocks does, and outlines them on the map.</p>
        </div>
      </div>
    </div>
    <h2>Blocks</h2>
    <div id="map"><p class="muted">Loading…</p></div>`;

  let alive = true;
  let detail = null;
  let map = null;
  let changed = null;
  let plot = null;
  let timer = null;
  const mapEl = main.querySelector('#map');

  const drawMap = () => { if (map) drawBlockMap(mapEl, map, changed); };

  const load = async () => {
    try {
      detail = await getJson(`snapshots/${encodeURIComponent(snapshotId)}`);
    } catch (err) {
      main.querySelector('#snap-info').textContent = err.message;
      return;
    }
    if (!alive) return;
    const s = detail.snapshot;
    main.querySelector('#snap-info').innerHTML = `${badge(s.state)} ${progressBar(s)} · of volume ${link('volumes', s.volumeId)} · ${esc(s.description || 'no description')} · started ${new Date(s.startTime).toLocaleTimeString()}`;
    main.querySelector('#snap-info .progress').style.display = 'inline-block';
    main.querySelector('#snap-info .progress').style.verticalAlign = 'middle';
    const b = detail.blocks;
    main.querySelector('#snap-figures').innerHTML = `
      <div class="figure"><b>${s.blocksDone} / ${s.blocksTotal}</b><span>blocks uploaded / to upload</span></div>
      ${b ? `<div class="figure"><b>${b.fresh}</b><span>blocks new in it (its own)</span></div><div class="figure"><b>${b.shared}</b><span>blocks shared with its parent</span></div>` : ''}
      <div class="figure"><b>${s.blocksDeduplicated}</b><span>blocks deduplicated</span></div>
      <div class="figure"><b>${bytes(detail.logicalBytes)}</b><span>logical size</span></div>
      ${detail.dataBytes !== null ? `<div class="figure"><b>${bytes(detail.dataBytes)}</b><span>data it holds</span></div>` : ''}
      <div class="figure"><b>${bytes(detail.storedBytes)}</b><span>bytes it stored (uploaded)</span></div>
      ${s.completionTime ? `<div class="figure"><b>${averageRate(s)}</b><span>average upload over ${((Date.parse(s.completionTime) - Date.parse(s.startTime)) / 1000).toFixed(1)} s</span></div>` : ''}`;
    const node = (r, me) => `<span class="node ${me ? 'me' : ''}">${me ? esc(r.snapshotId) : link('snapshots', r.snapshotId)} ${badge(r.state)}</span>`;
    main.querySelector('#lineage').innerHTML = `${detail.parent ? node(detail.parent) + ' → ' : '<span class="muted">no parent (a full snapshot)</span> →'} ${node(s, true)} ${detail.children.length ? '→ ' + detail.children.map((c) => node(c)).join(' ') : '<span class="muted">→ no children yet</span>'}`;
    const sel = main.querySelector('#compare-with');
    const others = detail.lineage.filter((x) => x.snapshotId !== snapshotId);
    const keep = sel.value;
    sel.innerHTML = others.length ? others.map((x) => `<option value="${esc(x.snapshotId)}">${esc(x.snapshotId)} (${esc(x.state)})</option>`).join('') : '<option value="">no other snapshot of this volume</option>';
    if (keep && others.some((x) => x.snapshotId === keep)) sel.value = keep;
    else if (detail.parent) sel.value = detail.parent.snapshotId;
    if (b) {
      map = await getJson(`snapshots/${encodeURIComponent(snapshotId)}/blockmap`).catch(() => null);
      drawMap();
    } else mapEl.innerHTML = '<p class="muted">A copy or a snapshot written through the EBS direct APIs: its blocks are in the object store only.</p>';
    await chart();
  };

  const chart = async () => {
    const { samples } = await getJson(`snapshots/${encodeURIComponent(snapshotId)}/history`);
    if (!alive || samples.length < 2) return;
    const t0 = samples[0].t;
    const xs = samples.map((p) => (p.t - t0) / 1000);
    const progress = samples.map((p) => p.progress);
    // Throughput over the last 1.5 s (uploads land in bursts of blocks: a per-sample rate is all spikes).
    const rate = samples.map((p, i) => {
      let j = i;
      while (j > 0 && p.t - samples[j - 1].t <= 1500) j--;
      if (j === i) j = Math.max(0, i - 1);
      return j === i ? 0 : (p.bytesUploaded - samples[j].bytesUploaded) / 1048576 / Math.max(0.001, (p.t - samples[j].t) / 1000);
    });
    const el = main.querySelector('#chart');
    const data = [xs, progress, rate];
    if (plot) { plot.setData(data); return; }
    el.innerHTML = '';
    plot = new window.uPlot({
      width: Math.max(320, el.clientWidth - 16), height: 220, legend: { live: false },
      scales: { x: { time: false }, pct: { range: [0, 100] }, rate: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [
        { label: 'seconds since the snapshot started', size: 42 },
        { scale: 'pct', label: 'progress %', size: 52 },
        { scale: 'rate', label: 'MiB/s', side: 1, size: 52, grid: { show: false } },
      ],
      series: [
        {},
        { label: 'progress', scale: 'pct', stroke: '#0072b2', width: 2, value: (_u, v) => (v == null ? '–' : v + '%') },
        { label: 'throughput', scale: 'rate', stroke: '#d55e00', width: 2, dash: [6, 4], value: (_u, v) => (v == null ? '–' : v.toFixed(2) + ' MiB/s') },
      ],
    }, data, el);
  };

  main.querySelector('#compare').addEventListener('click', (e) => busy(e.target, async () => {
    const other = main.querySelector('#compare-with').value;
    if (!other) return;
    const older = detail.lineage.findIndex((x) => x.snapshotId === other) < detail.lineage.findIndex((x) => x.snapshotId === snapshotId);
    const [first, second] = older ? [other, snapshotId] : [snapshotId, other];
    const out = await getJson(`compare?first=${encodeURIComponent(first)}&second=${encodeURIComponent(second)}`);
    changed = new Set(out.changedBlocks.map((i) => Math.floor(i / (map ? map.blocksPerCell : 1))));
    const list = out.changedBlocks.slice(0, 40).join(', ') + (out.changedBlocks.length > 40 ? ', …' : '');
    main.querySelector('#compare-out').innerHTML = `<b data-changed-count="${out.changedBlocks.length}">${out.changedBlocks.length} changed blocks</b> from <span class="mono">${esc(first)}</span> to <span class="mono">${esc(second)}</span>${out.changedBlocks.length ? `: ${esc(list)}` : ''}`;
    drawMap();
  }));
  main.querySelector('#restore').addEventListener('click', (e) => busy(e.target, async () => {
    const out = await action('restore', { snapshotId });
    toast(`Restoring into ${out.volumeId}`);
    location.hash = `#/volumes/${out.volumeId}`;
  }));
  main.querySelector('#delete').addEventListener('click', (e) => busy(e.target, async () => {
    const r = await action('delete-snapshot', { snapshotId });
    main.querySelector('#snap-info').innerHTML = `Deleted. ${r.freedBlocks === undefined ? '' : `It freed <b>${r.freedBlocks}</b> blocks nobody else saw, kept <b>${r.keptBlocks}</b> its successor still sees, and left the <b>${r.sharedWithParent}</b> it shared with its parent.`}`;
    alive = false;
  }));

  const update = () => { clearTimeout(timer); timer = setTimeout(() => { if (alive) load(); }, 200); };
  load();
  state.listeners.add(update);
  return () => { alive = false; clearTimeout(timer); state.listeners.delete(update); if (plot) plot.destroy(); document.getElementById('tip').hidden = true; };
}
