/** The console's lab pages: each run is a LabRun against this server, stepped by the page's buttons. */
import { randomUUID } from 'node:crypto';
import { LABS, LabRun, labNamed, type LabCredentials, type StepOutcome } from '../labs/index.js';
import { DataPlaneRequestError } from './data-plane-errors.js';

/** Runs kept at once (a page that never finishes its lab leaves one behind). */
const MAX_RUNS = 50;

export class ConsoleLabRuns {
  private readonly runs = new Map<string, LabRun>();
  /** Runs with a step under way: steps run one at a time, in order. */
  private readonly stepping = new Set<string>();

  constructor(private readonly endpoint: () => string) {}

  list() {
    return LABS.map((l) => ({
      name: l.name, title: l.title, summary: l.summary, claim: l.claim, serverArgs: l.serverArgs ?? [],
      steps: l.steps.map((s) => ({ title: s.title, explain: s.explain })),
    }));
  }

  /** `credentials`: the signed-in session's (under --auth sigv4), which the lab's requests are signed with. */
  start(name: string, credentials?: LabCredentials): { runId: string; lab: string } {
    const lab = labNamed(name);
    if (!lab) throw new DataPlaneRequestError(404, 'NOT_FOUND', `No lab '${name}' (labs: ${LABS.map((l) => l.name).join(', ')}).`);
    if (this.runs.size >= MAX_RUNS) this.runs.delete(this.runs.keys().next().value!);
    const runId = randomUUID();
    this.runs.set(runId, new LabRun(lab, this.endpoint(), credentials));
    return { runId, lab: name };
  }

  async step(runId: string): Promise<StepOutcome> {
    const run = this.runs.get(runId);
    if (!run) throw new DataPlaneRequestError(404, 'NOT_FOUND', `No lab run ${runId} (the server restarted, or it was evicted): start the lab again.`);
    if (this.stepping.has(runId)) throw new DataPlaneRequestError(409, 'INCORRECT_STATE', 'A step of this lab run is still running: wait for it.');
    this.stepping.add(runId);
    try {
      const out = await run.step();
      if (out.done) this.runs.delete(runId);
      return out;
    } finally {
      this.stepping.delete(runId);
    }
  }
}
