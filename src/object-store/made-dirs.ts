/**
 * The directories an fs store thread has made, so that a put into one skips its mkdir. Bounded:
 * each snapshot's manifest has a directory of its own, written once, so an unbounded set grew
 * by ~100 bytes a snapshot for the life of the server. Once full it is emptied at once; a put
 * into a forgotten directory pays one mkdir (of a directory that exists) again.
 */
export class MadeDirs {
  readonly #dirs = new Set<string>();

  constructor(readonly limit = 4096) {}

  get size(): number {
    return this.#dirs.size;
  }

  has(dir: string): boolean {
    return this.#dirs.has(dir);
  }

  add(dir: string): void {
    if (this.#dirs.size >= this.limit) this.#dirs.clear();
    this.#dirs.add(dir);
  }

  /** A delete pruned it (the rename into it failed): it must be made again. */
  delete(dir: string): void {
    this.#dirs.delete(dir);
  }
}
