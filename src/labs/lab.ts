/**
 * A lab: a guided lesson that drives a running ebs-sim through its public HTTP interfaces (the
 * EC2 API, the data plane, the guest plane, the console's API), one explained step at a time,
 * and ends by checking the claim it teaches. The same lab runs from `ebs-sim lab <name>` (a
 * narrated transcript, exit status from the claim) and from the console's lab pages (a button
 * per step).
 */
import { LabClient } from './lab-client.js';
import type { LabCredentials } from './lab-signer.js';

export interface LabStep {
  title: string;
  /** What the step does and why, in a sentence or two: what a teacher would say. */
  explain: string;
  run(ctx: LabContext): Promise<void>;
}

export interface Lab {
  name: string;
  title: string;
  summary: string;
  /** The claim the last step checks. */
  claim: string;
  /** Server flags the lab wants when `ebs-sim lab` starts its own server. */
  serverArgs?: string[];
  steps: LabStep[];
}

export interface LabLine {
  kind: 'say' | 'result' | 'check';
  text: string;
  ok?: boolean;
}

export interface LabContext {
  client: LabClient;
  /** Values steps hand to later steps (ids, offsets). */
  state: Record<string, string | number | boolean | string[]>;
  /** Narrates. */
  say(text: string): void;
  /** Shows what the server answered. */
  result(text: string): void;
  /** Records one checked fact; the lab's claim holds only if every check did. */
  check(ok: boolean, text: string): void;
}

export interface StepOutcome {
  step: number;
  title: string;
  lines: LabLine[];
  done: boolean;
  /** Once done: whether every check held (the claim). */
  claimHeld?: boolean;
  error?: string;
}

/** One run of a lab against one server: steps run in order, one per call. */
export class LabRun {
  private next = 0;
  private failed = false;
  private errored = false;
  private readonly ctx: LabContext;
  private lines: LabLine[] = [];

  /** `credentials`: for a server under `--auth sigv4` (requests are signed with them). */
  constructor(readonly lab: Lab, endpoint: string, credentials?: LabCredentials) {
    this.ctx = {
      client: new LabClient(endpoint, credentials),
      state: {},
      say: (text) => this.lines.push({ kind: 'say', text }),
      result: (text) => this.lines.push({ kind: 'result', text }),
      check: (ok, text) => {
        if (!ok) this.failed = true;
        this.lines.push({ kind: 'check', text, ok });
      },
    };
  }

  get done(): boolean {
    return this.next >= this.lab.steps.length || this.errored;
  }

  get position(): number {
    return this.next;
  }

  async step(): Promise<StepOutcome> {
    if (this.done) return { step: this.next, title: '', lines: [], done: true, claimHeld: this.claimHeld() };
    const index = this.next++;
    const step = this.lab.steps[index]!;
    this.lines = [];
    let error: string | undefined;
    try {
      await step.run(this.ctx);
    } catch (err) {
      error = (err as Error).message;
      this.errored = true;
      this.failed = true;
    }
    const done = this.done;
    return { step: index, title: step.title, lines: this.lines, done, ...(done ? { claimHeld: this.claimHeld() } : {}), ...(error ? { error } : {}) };
  }

  private claimHeld(): boolean {
    return !this.failed;
  }
}
