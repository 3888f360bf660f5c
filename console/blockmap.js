// Draws a block map (one cell per 512 KiB block, or per run of blocks) with a legend and a hover card.
// Each state has a colour AND a pattern, so the map reads without colour vision.
import { bytes, esc } from './ui.js';

const PALETTE = ['#0072b2', '#009e73', '#cc79a7', '#d55e00', '#56b4e9', '#b8860b'];
const epochStyle = (k) => `background-color:${PALETTE[k % PALETTE.length]}`;
const epochPattern = (k) => `p${k % 4}`;

function classify(map, c, changed) {
  let cls;
  let state;
  let style = '';
  if (!c) { cls = 'hole'; state = 'hole'; }
  else if (map.kind === 'snapshot') {
    if (c.fresh > 0) { cls = 'fresh'; state = 'fresh'; }
    else if (c.written > 0) { cls = 'shared'; state = 'shared'; }
    else { cls = 'hole'; state = 'hole'; }
  } else if (c.dirty > 0) { cls = 'dirty'; state = 'dirty'; }
  else if (c.written > 0) {
    state = 'written';
    if (c.epoch === -1) cls = 'loaded';
    else if (c.epoch === map.epochs.length - 1) cls = 'unsnap';
    else { cls = epochPattern(c.epoch); style = epochStyle(c.epoch); }
  } else if (c.backing > 0) { cls = 'backing'; state = 'backing'; }
  else { cls = 'hole'; state = 'hole'; }
  if (changed && changed.has(c ? c.cell : -1)) cls += ' changed';
  return { cls, state, style };
}

/** Which snapshots hold the version born at `birth` (the next version of the block born at `next`). */
function holders(map, birth, next = Infinity) {
  return map.snapshots.filter((s) => s.gen >= birth && s.gen < next).map((s) => s.snapshotId);
}

function describeCell(map, index, c, changedCount) {
  const first = index * map.blocksPerCell;
  const last = Math.min(map.totalBlocks, first + map.blocksPerCell) - 1;
  const lines = [];
  lines.push(first === last ? `<b>Block ${first}</b> · offset ${bytes(first * map.blockSize)}` : `<b>Blocks ${first}–${last}</b> (${last - first + 1} blocks) · from ${bytes(first * map.blockSize)}`);
  if (!c) { lines.push('A hole: never written, reads as zeros, nothing stored.'); return lines.join('<br>'); }
  if (c.written) lines.push(`${first === last ? 'Written' : `${c.written} written`}; newest version born in generation ${c.birth}`);
  if (map.kind === 'volume') {
    if (c.dirty) lines.push(`<b>${c.dirty} dirty</b> in an instance's page cache: on neither the volume nor any snapshot`);
    if (c.backing) lines.push(`${c.backing} still to load from the snapshot it was restored from`);
    if (c.births && c.births.length) {
      c.births.forEach((b, i) => {
        const held = holders(map, b, c.births[i + 1]);
        const live = i === c.births.length - 1;
        lines.push(`version of gen ${b}: ${held.length ? 'held by ' + held.map(esc).join(', ') : 'in no snapshot yet'}${live ? ' (the volume’s)' : ''}`);
      });
    } else if (c.written) {
      const held = holders(map, c.birth);
      lines.push(held.length ? `Newest versions held by ${held.map(esc).join(', ')}` : 'Newest versions in no snapshot yet');
    }
  } else {
    if (c.fresh) lines.push(`${c.fresh} uploaded by this snapshot (new since its parent)`);
    if (c.written - c.fresh) lines.push(`${c.written - c.fresh} shared with its parent (not uploaded again)`);
    if (c.births && c.births.length) {
      const b = c.births[c.births.length - 1];
      const held = holders(map, b).filter((id) => map.snapshots.find((s) => s.snapshotId === id).gen <= map.gen || id === map.id);
      lines.push(`This version (gen ${b}) is also in ${held.map(esc).join(', ')}`);
    }
  }
  if (changedCount) lines.push(`<b>Changed</b> between the compared snapshots`);
  return lines.join('<br>');
}

export function legendHtml(map, changed) {
  const items = [];
  const sw = (cls, style, text) => `<span><i class="sw ${cls}" style="${style}"></i>${text}</span>`;
  items.push(sw('hole', '', 'hole (never written)'));
  if (map.kind === 'volume') {
    const present = new Set(map.cells.filter((c) => c.written && !c.dirty).map((c) => c.epoch));
    if (present.has(-1)) items.push(sw('loaded', '', 'loaded from the snapshot it was restored from'));
    for (const e of map.epochs) {
      if (!present.has(e.index)) continue;
      if (e.snapshotId === null) items.push(sw('unsnap', '', 'written since the last snapshot: in no snapshot yet'));
      else items.push(sw(epochPattern(e.index), epochStyle(e.index), `written, first held by <span class="mono">${esc(e.snapshotId)}</span>`));
    }
    items.push(sw('dirty', '', 'dirty in a page cache: not on the volume, not in any snapshot'));
    if (map.totals.backing) items.push(sw('backing', '', 'to load from the source snapshot'));
  } else {
    items.push(sw('fresh', '', 'uploaded by this snapshot (new since its parent)'));
    items.push(sw('shared', '', 'shared with its parent'));
  }
  if (changed) items.push(sw('changed', '', 'changed between the compared snapshots'));
  return `<div class="legend">${items.join('')}</div>`;
}

/** Renders `map` into `el`; `changed` is a Set of cell numbers to outline (Compare). */
export function drawBlockMap(el, map, changed) {
  const byCell = new Map(map.cells.map((c) => [c.cell, c]));
  const html = new Array(map.cellCount);
  for (let i = 0; i < map.cellCount; i++) {
    const c = byCell.get(i);
    const { cls, state, style } = classify(map, c ?? (changed && changed.has(i) ? { cell: i, written: 0, dirty: 0, fresh: 0, backing: 0 } : undefined), changed);
    html[i] = `<i class="${cls}" data-i="${i}" data-state="${state}"${c && c.epoch !== undefined ? ` data-epoch="${c.epoch}"` : ''}${changed && changed.has(i) ? ' data-changed="1"' : ''}${style ? ` style="${style}"` : ''}></i>`;
  }
  el.innerHTML = `${legendHtml(map, changed)}<div class="map" role="img" aria-label="block map">${html.join('')}</div>
    <p class="muted">${map.totalBlocks.toLocaleString()} blocks of ${bytes(map.blockSize)}${map.blocksPerCell > 1 ? `, ${map.blocksPerCell.toLocaleString()} per cell (${map.cellCount.toLocaleString()} cells)` : ', one per cell'}.
    Hover or select a cell for its blocks, births and the snapshots that hold them.</p>
    <div class="card pinned" hidden></div>`;
  const tip = document.getElementById('tip');
  const grid = el.querySelector('.map');
  grid.addEventListener('mousemove', (e) => {
    const cell = e.target.closest('i[data-i]');
    if (!cell) { tip.hidden = true; return; }
    const i = Number(cell.dataset.i);
    tip.innerHTML = describeCell(map, i, byCell.get(i), changed && changed.has(i));
    tip.hidden = false;
    const x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const y = Math.min(e.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  });
  grid.addEventListener('mouseleave', () => { tip.hidden = true; });
  // Selecting a cell (click, or Enter on the focused map) pins its card below the map.
  const pinned = el.querySelector('.pinned');
  const select = (i) => {
    for (const old of grid.querySelectorAll('i.selected')) old.classList.remove('selected');
    const cell = grid.querySelector(`i[data-i="${i}"]`);
    if (!cell) return;
    cell.classList.add('selected');
    el.dataset.selected = String(i); // kept when the map is redrawn (it is, at every change)
    pinned.innerHTML = describeCell(map, i, byCell.get(i), changed && changed.has(i));
    pinned.hidden = false;
  };
  grid.addEventListener('click', (e) => {
    const cell = e.target.closest('i[data-i]');
    if (cell) select(Number(cell.dataset.i));
  });
  if (el.dataset.selected !== undefined) select(Number(el.dataset.selected));
}
