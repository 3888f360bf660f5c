// The console's entry: session, region selector, event stream, and a hash router over the pages.
import { connectEvents, getJson, postJson, setRegion, state } from './api.js';
import { renderLab, renderLabs } from './labs.js';
import { renderOverview } from './overview.js';
import { renderSnapshot } from './snapshot.js';
import { busy, esc, formValues } from './ui.js';
import { renderVolume } from './volume.js';

const main = document.getElementById('main');
let leave = null;

function route() {
  if (leave) leave();
  leave = null;
  window.scrollTo(0, 0);
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === (parts[0] === 'labs' ? 'labs' : 'overview'));
  if (parts[0] === 'volumes' && parts[1]) leave = renderVolume(main, parts[1]);
  else if (parts[0] === 'snapshots' && parts[1]) leave = renderSnapshot(main, parts[1]);
  else if (parts[0] === 'labs' && parts[1]) leave = renderLab(main, parts[1]);
  else if (parts[0] === 'labs') leave = renderLabs(main);
  else leave = renderOverview(main);
}

function signInPage() {
  main.innerHTML = `
    <h1>Sign in</h1>
    <p class="sub">This server runs with <code>--auth sigv4</code>: the console shows one account's resources. Enter an access key from its credentials file.</p>
    <form class="card signin row" id="signin">
      <label>Access key id<input name="accessKeyId" autocomplete="username" required></label>
      <label>Secret access key<input name="secretAccessKey" type="password" autocomplete="current-password" required></label>
      <button class="primary" type="submit">Sign in</button>
    </form>`;
  main.querySelector('#signin').addEventListener('submit', (e) => {
    e.preventDefault();
    busy(e.submitter, async () => {
      await postJson('session', formValues(e.target));
      await start();
    });
  });
}

async function start() {
  state.session = await getJson('session');
  if (!state.session.signedIn) return signInPage();
  document.getElementById('account').textContent = `account ${state.session.accountId}`;
  const select = document.getElementById('region');
  const regions = (await getJson('overview')).regions;
  select.innerHTML = regions.map((r) => `<option ${r === state.region ? 'selected' : ''}>${esc(r)}</option>`).join('');
  select.onchange = () => { setRegion(select.value); route(); };
  connectEvents();
  window.addEventListener('hashchange', route);
  route();
}

start().catch((err) => { main.innerHTML = `<p class="card">The console could not start: ${esc(err.message)}</p>`; });
