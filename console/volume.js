// A volume's page: its block map (live: dirty cells follow the page cache), writes, fsync, snapshot.
import { action, getJson, state } from './api.js';
import { drawBlockMap } from './blockmap.js';
import { badge, busy, bytes, esc, formValues, link, progressBar, toast } from './ui.js';

export function renderVolume(main, volumeId) {
  main.innerHTML = `
    <p><a href="#/">← Overview</a></p>
    <h1>Volume <span class="mono">${esc(volumeId)}</span></h1>
    <p class="sub" id="vol-info">…</p>
    <div class="figures" id="vol-figures"></div>
    <div class="card">
      <form id="write" class="row">
        <label>Write to<select name="target" id="write-target"><option value="">the volume (write-through)</option></select></label>
        <label>Offset (bytes)<input name="offset" type="number" min="0" value="0"></label>
        <label>Text<input name="text" placeholder="grades: alice A" size="22"></label>
        <label>or pattern byte<input name="pattern" type="number" min="0" max="255" placeholder="0-255"></label>
        <label>length (bytes)<input name="length" type="number" min="0" placeholder="1048576"></label>
        <button class="primary" type="submit">Write</button>
      </form>
      <div class="row" style="margin-top:10px">
        <button id="fsync" type="button" hidden>fsync</button>
        <button id="snapshot" type="button">Snapshot</button>
        <button id="refresh" type="button">Refresh map</button>
      </div>
    </div>
    <h2>Block map</h2>
    <div id="map"><p class="muted">Loading…</p></div>
    <h2>Snapshots of this volume</h2>
    <table id="vol-snaps"><thead><tr><th>Snapshot</th><th>State</th><th>Progress</th><th>Description</th></tr></thead><tbody></tbody></table>`;

  let attachment = null;
  let mapTimer = null;
  let alive = true;
  const mapEl = main.querySelector('#map');

  const loadMap = async () => {
    try {
      const map = await getJson(`volumes/${encodeURIComponent(volumeId)}/blockmap`);
      if (!alive) return;
      drawBlockMap(mapEl, map);
      main.querySelector('#vol-figures').innerHTML = `
        <div class="figure"><b>${map.totals.written.toLocaleString()}</b><span>blocks with data</span></div>
        <div class="figure"><b class="${map.totals.dirty ? 'dirty' : ''}">${map.totals.dirty}</b><span>blocks dirty in a page cache</span></div>
        <div class="figure"><b>${map.snapshots.length}</b><span>snapshots hold its blocks</span></div>
        <div class="figure"><b>${bytes(map.sizeBytes)}</b><span>size</span></div>`;
      mapEl.dataset.loaded = String(Date.now());
    } catch (err) {
      mapEl.innerHTML = `<p class="card">${esc(err.message)}</p>`;
    }
  };
  const reloadSoon = () => { clearTimeout(mapTimer); mapTimer = setTimeout(loadMap, 150); };

  const update = (o) => {
    const v = o.volumes.find((x) => x.volumeId === volumeId);
    if (!v) { main.querySelector('#vol-info').textContent = 'This volume is not in the account and region shown.'; return; }
    const a = v.attachments.find((x) => x.state === 'attached' || x.state === 'attaching');
    main.querySelector('#vol-info').innerHTML = `${badge(v.state)} · ${v.sizeGiB} GiB ${esc(v.volumeType)} · ${esc(v.availabilityZone)}${a ? ` · attached to <span class="mono">${esc(a.instanceId)}</span> at <span class="mono">${esc(a.device)}</span>` : ''}${v.snapshotId ? ` · restored from ${link('snapshots', v.snapshotId)}${v.hydration ? ` (loading in the background: ${v.hydration.blocksDone} of ${v.hydration.blocksTotal} blocks)` : ''}` : ''} · <span class="${v.dirtyBytes ? 'dirty' : ''}">${bytes(v.dirtyBytes)} dirty in page cache</span>`;
    const key = a ? `${a.instanceId}|${a.device}` : null;
    if (key !== (attachment && `${attachment.instanceId}|${attachment.device}`)) {
      attachment = a || null;
      const sel = main.querySelector('#write-target');
      sel.innerHTML = `<option value="">the volume (write-through)</option>` + (a ? `<option value="${esc(a.instanceId)}|${esc(a.device)}" selected>${esc(a.instanceId)} ${esc(a.device)} (through its page cache)</option>` : '');
      main.querySelector('#fsync').hidden = !a;
    }
    const snaps = o.snapshots.filter((s) => s.volumeId === volumeId);
    main.querySelector('#vol-snaps tbody').innerHTML = snaps.length === 0 ? '<tr><td colspan="4" class="empty">None yet.</td></tr>'
      : snaps.map((s) => `<tr><td>${link('snapshots', s.snapshotId)}</td><td>${badge(s.state)}</td><td>${progressBar(s)}</td><td>${esc(s.description)}</td></tr>`).join('');
    reloadSoon();
  };

  main.querySelector('#write').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(e.target);
    const body = { offset: Number(v.offset || 0) };
    if (v.text) body.text = v.text;
    else { body.pattern = Number(v.pattern || 0); body.length = Number(v.length || 0); }
    if (v.target) { const [instanceId, device] = v.target.split('|'); Object.assign(body, { instanceId, device }); }
    else body.volumeId = volumeId;
    busy(e.submitter, async () => {
      const out = await action('write', body);
      toast(`Wrote ${bytes(out.length)} at ${out.offset} ${out.through === 'page cache' ? 'into the page cache (dirty until an fsync)' : 'to the volume'}`);
      await loadMap();
    });
  });
  main.querySelector('#fsync').addEventListener('click', (e) => busy(e.target, async () => {
    const out = await action('fsync', { instanceId: attachment.instanceId, device: attachment.device });
    toast(`fsync wrote back ${bytes(out.bytes)}`);
    await loadMap();
  }));
  main.querySelector('#snapshot').addEventListener('click', (e) => busy(e.target, async () => {
    toast(`Snapshot ${(await action('snapshot', { volumeId, description: 'from the console' })).snapshotId} started`);
  }));
  main.querySelector('#refresh').addEventListener('click', (e) => busy(e.target, loadMap));

  loadMap();
  if (state.overview) update(state.overview);
  state.listeners.add(update);
  return () => { alive = false; clearTimeout(mapTimer); state.listeners.delete(update); document.getElementById('tip').hidden = true; };
}
