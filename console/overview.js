// The overview: volumes, snapshots and instances as live tables, and the actions that make them.
import { action, state } from './api.js';
import { badge, busy, bytes, esc, formValues, link, progressBar, toast } from './ui.js';

const SNAPSHOT_ROWS = 200;

export function renderOverview(main) {
  main.innerHTML = `
    <h1>Overview</h1>
    <p class="sub">Account <span class="mono" id="ov-account"></span> in <b id="ov-region"></b>. Tables update as the server pushes changes.</p>
    <div class="card row">
      <form id="create-volume" class="row">
        <label>Size (GiB)<input name="sizeGiB" type="number" min="1" max="16384" value="1"></label>
        <label>Type<select name="volumeType"><option>gp3</option><option>gp2</option><option>io2</option><option>st1</option></select></label>
        <button class="primary" type="submit">Create volume</button>
      </form>
      <button id="run-instance" type="button">Launch instance</button>
    </div>
    <h2>Volumes</h2>
    <table id="volumes"><thead><tr><th>Volume</th><th>State</th><th class="num">Size</th><th>Type</th><th>Attachment</th><th class="num">Dirty in page cache</th><th class="num">Blocks since last snapshot</th><th></th></tr></thead><tbody></tbody></table>
    <h2>Snapshots</h2>
    <table id="snapshots"><thead><tr><th>Snapshot</th><th>Volume</th><th>State</th><th>Progress</th><th class="num">Blocks uploaded / total</th><th class="num">Bytes uploaded / total</th><th class="num">Blocks deduplicated</th><th>Description</th><th></th></tr></thead><tbody></tbody></table>
    <h2>Instances</h2>
    <table id="instances"><thead><tr><th>Instance</th><th>State</th><th>Type</th><th>Devices</th><th class="num">Dirty in page cache</th><th></th></tr></thead><tbody></tbody></table>`;

  main.querySelector('#create-volume').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(e.target);
    busy(e.submitter, async () => {
      const out = await action('create-volume', { sizeGiB: Number(v.sizeGiB), volumeType: v.volumeType });
      toast(`Created ${out.volumeId}`);
    });
  });
  main.querySelector('#run-instance').addEventListener('click', (e) => busy(e.target, async () => {
    const out = await action('run-instance', {});
    toast(`Launched ${out.instanceId}`);
  }));
  // Row buttons: one delegated listener.
  main.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-act]');
    if (!b) return;
    const { act, id } = b.dataset;
    busy(b, async () => {
      if (act === 'snapshot') toast(`Snapshot ${(await action('snapshot', { volumeId: id, description: 'from the console' })).snapshotId} started`);
      if (act === 'restore') toast(`Restoring into ${(await action('restore', { snapshotId: id })).volumeId}`);
      if (act === 'delete-snapshot') {
        const r = await action('delete-snapshot', { snapshotId: id });
        toast(r.freedBlocks === undefined ? `Deleted ${id}` : `Deleted ${id}: freed ${r.freedBlocks} blocks, kept ${r.keptBlocks} still seen by others, ${r.sharedWithParent} shared with its parent untouched`);
      }
      if (act === 'delete-volume') { await action('delete-volume', { volumeId: id }); toast(`Deleting ${id}`); }
      if (act === 'sync') toast(`sync wrote back ${bytes((await action('fsync', { instanceId: id })).bytes)}`);
      if (act === 'crash') toast(`Crash: ${bytes((await action('crash', { instanceId: id })).bytes)} of dirty pages lost`);
      if (act === 'create-snapshots') toast(`CreateSnapshots: ${(await action('create-snapshots', { instanceId: id, description: 'set from the console' })).snapshots.length} snapshots at one instant`);
      if (act === 'stop') { await action('stop-instance', { instanceId: id }); toast(`Stopping ${id} (its page caches are written back)`); }
      if (act === 'start') { await action('start-instance', { instanceId: id }); toast(`Starting ${id}`); }
    });
  });

  const update = (o) => fillOverview(main, o);
  if (state.overview) update(state.overview);
  state.listeners.add(update);
  return () => state.listeners.delete(update);
}

function fillOverview(main, o) {
  main.querySelector('#ov-account').textContent = o.accountId;
  main.querySelector('#ov-region').textContent = o.region;
  const empty = (n, what) => `<tr><td colspan="${n}" class="empty">No ${what} in ${esc(o.region)} yet.</td></tr>`;
  main.querySelector('#volumes tbody').innerHTML = o.volumes.length === 0 ? empty(8, 'volumes') : o.volumes.map((v) => `
    <tr data-volume="${esc(v.volumeId)}">
      <td>${link('volumes', v.volumeId)}${v.name ? ` <span class="muted">${esc(v.name)}</span>` : ''}${v.snapshotId ? `<br><span class="muted">from ${link('snapshots', v.snapshotId)}${v.hydration ? `, loading ${v.hydration.blocksDone}/${v.hydration.blocksTotal} blocks` : ''}</span>` : ''}</td>
      <td>${badge(v.state)}</td>
      <td class="num">${v.sizeGiB} GiB</td>
      <td>${esc(v.volumeType)}</td>
      <td>${v.attachments.map((a) => `<span class="mono">${esc(a.instanceId)} ${esc(a.device)}</span> ${badge(a.state)}`).join('<br>') || '<span class="muted">–</span>'}</td>
      <td class="num ${v.dirtyBytes ? 'dirty' : ''}" data-dirty="${v.dirtyBytes}">${v.dirtyBytes ? bytes(v.dirtyBytes) : '0'}</td>
      <td class="num">${v.blocksSinceSnapshot}</td>
      <td class="actions"><button class="small" data-act="snapshot" data-id="${esc(v.volumeId)}">Snapshot</button><button class="small danger" data-act="delete-volume" data-id="${esc(v.volumeId)}">Delete</button></td>
    </tr>`).join('');
  // The newest first, and no more than a page can redraw at every change.
  const shown = o.snapshots.slice(-SNAPSHOT_ROWS).reverse();
  const more = o.snapshots.length - shown.length;
  main.querySelector('#snapshots tbody').innerHTML = o.snapshots.length === 0 ? empty(9, 'snapshots') : shown.map((s) => `
    <tr data-snapshot="${esc(s.snapshotId)}">
      <td>${link('snapshots', s.snapshotId)}</td>
      <td class="mono">${esc(s.volumeId)}</td>
      <td>${badge(s.state)}${s.stateMessage ? `<br><span class="muted">${esc(s.stateMessage)}</span>` : ''}</td>
      <td>${progressBar(s)}</td>
      <td class="num">${s.blocksDone} / ${s.blocksTotal}</td>
      <td class="num">${bytes(s.bytesUploaded)} / ${bytes(s.blocksTotal * s.blockSize)}</td>
      <td class="num">${s.blocksDeduplicated}</td>
      <td>${esc(s.description)}</td>
      <td class="actions"><button class="small" data-act="restore" data-id="${esc(s.snapshotId)}">Restore</button><button class="small danger" data-act="delete-snapshot" data-id="${esc(s.snapshotId)}">Delete</button></td>
    </tr>`).join('') + (more > 0 ? `<tr><td colspan="9" class="empty">and ${more.toLocaleString()} older snapshots (open one from its volume's page)</td></tr>` : '');
  main.querySelector('#instances tbody').innerHTML = o.instances.length === 0 ? empty(6, 'instances') : o.instances.map((i) => `
    <tr data-instance="${esc(i.instanceId)}">
      <td class="mono">${esc(i.instanceId)}</td>
      <td>${badge(i.state)}</td>
      <td>${esc(i.instanceType)}</td>
      <td>${i.devices.map((d) => `<span class="mono">${esc(d.device)}</span> → ${link('volumes', d.volumeId)}${d.root ? ' <span class="muted">root</span>' : ''}`).join('<br>')}</td>
      <td class="num ${i.dirtyBytes ? 'dirty' : ''}">${i.dirtyBytes ? bytes(i.dirtyBytes) : '0'}</td>
      <td class="actions">
        <button class="small" data-act="sync" data-id="${esc(i.instanceId)}" title="Write every dirty page back">Sync</button>
        <button class="small danger" data-act="crash" data-id="${esc(i.instanceId)}" title="Power loss: dirty pages are lost">Crash</button>
        <button class="small" data-act="create-snapshots" data-id="${esc(i.instanceId)}" title="CreateSnapshots: every volume at one instant">Snapshot all</button>
        ${i.state === 'stopped' ? `<button class="small" data-act="start" data-id="${esc(i.instanceId)}">Start</button>` : `<button class="small" data-act="stop" data-id="${esc(i.instanceId)}">Stop</button>`}
      </td>
    </tr>`).join('');
}
