// The labs: four guided lessons, each step explained and run by a button (the same scripts as `ebs-sim lab`).
import { getJson, postJson } from './api.js';
import { busy, esc } from './ui.js';

let catalog = null;

/** Volume and snapshot ids in a transcript line (already escaped) become links to their pages. */
const linkIds = (html) => html.replace(/\b(vol|snap)-[0-9a-f]{8,}\b/g, (id, kind) => `<a href="#/${kind === 'vol' ? 'volumes' : 'snapshots'}/${id}">${id}</a>`);
const labs = async () => (catalog ??= await getJson('labs'));

export function renderLabs(main) {
  main.innerHTML = '<h1>Labs</h1><p class="sub">Guided lessons: each step explained, with a button to run it against this server. The same labs run from a shell: <code>ebs-sim lab &lt;name&gt;</code>.</p><div class="labs" id="labs"></div>';
  labs().then((list) => {
    main.querySelector('#labs').innerHTML = list.map((l) => `
      <div class="card lab-card"><h3><a href="#/labs/${esc(l.name)}">${esc(l.title)}</a></h3>
      <p>${esc(l.summary)}</p><p class="muted"><code>ebs-sim lab ${esc(l.name)}</code> · ${l.steps.length} steps</p></div>`).join('');
  });
  return null;
}

export function renderLab(main, name) {
  main.innerHTML = '<p class="muted">Loading…</p>';
  let runId = null;
  let next = 0;
  let alive = true;
  labs().then((list) => {
    const lab = list.find((l) => l.name === name);
    if (!lab) { main.innerHTML = `<p class="card">No lab ${esc(name)}.</p>`; return; }
    main.innerHTML = `
      <p><a href="#/labs">← Labs</a></p>
      <h1>${esc(lab.title)}</h1>
      <p class="sub">${esc(lab.summary)}</p>
      ${lab.serverArgs.length ? `<p class="muted">Best seen with the server started as <code>ebs-sim serve ${esc(lab.serverArgs.join(' '))}</code> (as <code>ebs-sim lab ${esc(lab.name)}</code> does).</p>` : ''}
      <div class="row"><button class="primary" id="run-all">Run all steps</button><button id="restart">Start over</button></div>
      <ol class="steps">${lab.steps.map((s, i) => `
        <li data-step="${i}"><h3>${i + 1}. ${esc(s.title)}</h3><p>${esc(s.explain)}</p>
        <button class="step-run" data-step="${i}" ${i === 0 ? '' : 'disabled'}>Run step ${i + 1}</button>
        <div class="transcript" hidden></div></li>`).join('')}</ol>
      <div class="claim" id="claim"><b>Claim:</b> ${esc(lab.claim)} <span id="claim-state" class="muted">(checked at the end)</span></div>`;

    const mark = () => {
      for (const li of main.querySelectorAll('.steps > li')) {
        const i = Number(li.dataset.step);
        li.classList.toggle('done', i < next);
        li.classList.toggle('next', i === next);
        const button = li.querySelector('button');
        button.disabled = i !== next;
        button.hidden = i < next; // done: its transcript says what happened
      }
    };
    const runStep = async () => {
      if (!runId) runId = (await postJson(`labs/${encodeURIComponent(name)}/runs`)).runId;
      const out = await postJson(`labs/runs/${runId}/step`);
      if (!alive) return out;
      const li = main.querySelector(`.steps > li[data-step="${out.step}"]`);
      const t = li.querySelector('.transcript');
      t.hidden = false;
      t.innerHTML = out.lines.map((l) => l.kind === 'check'
        ? `<div class="check ${l.ok ? 'ok' : 'bad'}">${l.ok ? '✓' : '✗'} ${esc(l.text)}</div>`
        : `<div>${l.kind === 'result' ? '→ ' : ''}${linkIds(esc(l.text))}</div>`).join('') + (out.error ? `<div class="check bad">✗ ${esc(out.error)}</div>` : '');
      next = out.step + 1;
      mark();
      if (out.done) {
        const claim = main.querySelector('#claim');
        claim.classList.add(out.claimHeld ? 'held' : 'failed');
        claim.dataset.result = out.claimHeld ? 'held' : 'failed';
        main.querySelector('#claim-state').textContent = out.claimHeld ? '✓ held' : '✗ did not hold';
        for (const b of main.querySelectorAll('.step-run')) b.disabled = true;
        main.querySelector('#run-all').disabled = true;
        runId = null;
      }
      return out;
    };
    main.querySelector('.steps').addEventListener('click', (e) => {
      const b = e.target.closest('.step-run');
      if (b) busy(b, runStep);
    });
    main.querySelector('#run-all').addEventListener('click', (e) => busy(e.target, async () => {
      for (;;) { const out = await runStep(); if (!out || out.done || !alive) break; }
    }));
    main.querySelector('#restart').addEventListener('click', () => renderLab(main, name));
    mark();
  });
  return () => { alive = false; };
}
