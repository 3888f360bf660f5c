// The console's API client: JSON endpoints, actions, and the server's event stream.
export const state = {
  region: localStorage.getItem('ebs-sim.region') || 'us-east-1',
  session: null,
  overview: null,
  /** Called with each overview the server pushes. */
  listeners: new Set(),
};

function withRegion(path) {
  return path + (path.includes('?') ? '&' : '?') + 'region=' + encodeURIComponent(state.region);
}

export async function getJson(path) {
  const res = await fetch(withRegion('/console/api/' + path), { credentials: 'same-origin' });
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error(body.message || res.statusText), { code: body.code, status: res.status });
  return body;
}

export async function action(name, body) {
  const res = await fetch(withRegion('/console/api/actions/' + name), {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}),
  });
  const out = await res.json();
  if (!res.ok) throw Object.assign(new Error(out.message || res.statusText), { code: out.code, status: res.status });
  return out;
}

export async function postJson(path, body) {
  const res = await fetch('/console/api/' + path, {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}),
  });
  const out = await res.json();
  if (!res.ok) throw Object.assign(new Error(out.message || res.statusText), { code: out.code, status: res.status });
  return out;
}

let source = null;

/** One event stream per page, for the selected region; the browser reconnects it by itself. */
export function connectEvents() {
  if (source) source.close();
  source = new EventSource(withRegion('/console/api/events'));
  const dot = document.getElementById('live');
  source.addEventListener('open', () => dot.classList.add('on'));
  source.addEventListener('error', () => dot.classList.remove('on'));
  source.addEventListener('overview', (e) => {
    state.overview = JSON.parse(e.data);
    for (const fn of state.listeners) fn(state.overview);
  });
}

export function setRegion(region) {
  state.region = region;
  localStorage.setItem('ebs-sim.region', region);
  state.overview = null;
  connectEvents();
}
