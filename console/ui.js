// Small DOM helpers shared by the pages.
export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)) + ' ' + units[i];
}

export const badge = (s) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;

export function progressBar(row) {
  const p = Math.max(0, Math.min(100, row.progress));
  return `<div class="progress ${esc(row.state)}" role="progressbar" aria-valuenow="${p}" aria-valuemin="0" aria-valuemax="100" data-snapshot="${esc(row.snapshotId)}"><i style="width:${p}%"></i><span>${p}%</span></div>`;
}

export const short = (id) => esc(id);
export const link = (kind, id) => id ? `<a class="mono" href="#/${kind}/${encodeURIComponent(id)}">${esc(id)}</a>` : '–';

let toastTimer;
export function toast(message, bad = false) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = 'toast' + (bad ? ' bad' : '');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, bad ? 8000 : 4000);
}

/** Runs a button's work with the button disabled; errors become a toast. */
export async function busy(button, work) {
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (err) {
    toast(err.message, true);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function formValues(form) {
  const out = {};
  for (const el of form.querySelectorAll('[name]')) out[el.name] = el.value;
  return out;
}
