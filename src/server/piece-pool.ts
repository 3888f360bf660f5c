/**
 * The buffers PUT bodies are cut into (data-plane-io.ts writePieces), with a bound on how many
 * bytes of them exist at once across all requests. Each request holds at most one piece at a
 * time; past the bound, a request waits for a piece before it reads more of its body, and TCP
 * holds the rest of that body meanwhile. Without the bound, 16 clients writing at once held 16
 * pieces of 8 MiB, and the server's peak resident memory grew with the number of writers.
 *
 * Full pieces are reused from one request to the next (a fresh 8 MiB buffer per piece made
 * glibc's heap grow and stay grown); a body smaller than a piece takes a buffer of its own size
 * when no full one is free.
 */
export class PiecePool {
  readonly #free: Buffer[] = [];
  readonly #waiting: Array<{ size: number; wake: () => void }> = [];
  #held = 0;

  constructor(
    readonly pieceBytes: number,
    /** Bytes of pieces that may exist at once, and how many full ones are kept for reuse. */
    readonly budgetBytes: number,
  ) {
    if (budgetBytes < pieceBytes) throw new Error('the budget must hold at least one piece');
  }

  /** Bytes held by requests now. */
  get heldBytes(): number {
    return this.#held;
  }

  /** A buffer of at least `size` bytes (at most a piece), once the budget has room for it. */
  async take(wanted: number): Promise<Buffer> {
    const size = Math.max(1, Math.min(wanted, this.pieceBytes));
    if (this.#waiting.length > 0 || this.#held + size > this.budgetBytes) {
      await new Promise<void>((wake) => this.#waiting.push({ size, wake }));
      this.#held -= size; // give() reserved it when it woke us
    }
    const full = this.#held + this.pieceBytes <= this.budgetBytes ? this.#free.pop() : undefined;
    const piece = full ?? Buffer.allocUnsafeSlow(size);
    this.#held += piece.length;
    return piece;
  }

  /** Gives a piece back; `reuse` false when something may still read it (a write that failed). */
  give(piece: Buffer, reuse: boolean): void {
    this.#held -= piece.length;
    if (reuse && piece.length === this.pieceBytes && this.#free.length * this.pieceBytes < this.budgetBytes) this.#free.push(piece);
    // In arrival order: a small request does not overtake a large one for ever.
    while (this.#waiting.length > 0 && this.#held + this.#waiting[0]!.size <= this.budgetBytes) {
      const next = this.#waiting.shift()!;
      this.#held += next.size; // reserved until its take() goes on
      next.wake();
    }
  }
}
