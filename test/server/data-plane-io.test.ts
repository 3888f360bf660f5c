/** How the data plane cuts a PUT's body into pieces, and reuses the buffers it cuts them into. */
import { describe, expect, it } from 'vitest';
import { PIECE_BYTES, writePieces } from '../../src/server/data-plane-io.js';
import { Rng } from '../support/random.js';

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** Records each piece's offset, a copy of its bytes, and the memory it arrived in. */
function recorder() {
  const pieces: Array<{ at: number; bytes: Buffer; memory: ArrayBufferLike }> = [];
  const write = async (at: number, piece: Buffer) => void pieces.push({ at, bytes: Buffer.from(piece), memory: piece.buffer });
  return { pieces, write };
}

describe('writePieces', () => {
  // First: the pool of piece buffers is still empty.
  it('gives a small body a buffer of its own size, not a whole piece', async () => {
    const data = new Rng(5).bytes(1024 * 1024);
    const { pieces, write } = recorder();
    expect(await writePieces(chunksOf(data, 65_536), 4096, data.length, write)).toBe(data.length);
    expect(pieces.map((p) => [p.at, p.memory.byteLength])).toEqual([[4096, data.length]]);
    expect(pieces[0]!.bytes.equals(data)).toBe(true);
  });

  it('writes what a body holds even when it is longer or shorter than expected', async () => {
    const data = new Rng(6).bytes(300_000);
    const longer = recorder();
    expect(await writePieces(chunksOf(data, 70_000), 0, 100_000, longer.write)).toBe(data.length);
    expect(Buffer.concat(longer.pieces.map((p) => p.bytes)).equals(data)).toBe(true);
    const shorter = recorder(); // an upload cut short: its prefix
    expect(await writePieces(chunksOf(data, 70_000), 0, 10 * data.length, shorter.write)).toBe(data.length);
    expect(Buffer.concat(shorter.pieces.map((p) => p.bytes)).equals(data)).toBe(true);
  });

  it('cuts a body into pieces that end on piece boundaries of the volume, whatever its chunks', async () => {
    const data = new Rng(3).bytes(2 * PIECE_BYTES + 12_345);
    const start = PIECE_BYTES - 1000;
    const { pieces, write } = recorder();
    expect(await writePieces(chunksOf(data, 65_537), start, data.length, write)).toBe(data.length);
    expect(pieces.map((p) => [p.at, p.bytes.length])).toEqual([
      [start, 1000],
      [PIECE_BYTES, PIECE_BYTES],
      [2 * PIECE_BYTES, PIECE_BYTES],
      [3 * PIECE_BYTES, data.length - 1000 - 2 * PIECE_BYTES],
    ]);
    expect(Buffer.concat(pieces.map((p) => p.bytes)).equals(data)).toBe(true);
  });

  it('reuses its piece buffers from one request to the next, never two requests at once', async () => {
    const first = recorder();
    await writePieces(chunksOf(new Rng(4).bytes(2 * PIECE_BYTES), 100_000), 0, 2 * PIECE_BYTES, first.write);
    const used = first.pieces[0]!.memory;
    expect(first.pieces[1]!.memory).toBe(used); // within a request

    // Two requests in flight at once: the first holds its piece until its write resolves.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const memories: ArrayBufferLike[] = [];
    const slow = writePieces(chunksOf(Buffer.alloc(10, 1), 10), 0, 10, async (_at, piece) => {
      memories.push(piece.buffer);
      await held;
    });
    await new Promise((r) => setImmediate(r));
    const other = recorder();
    await writePieces(chunksOf(Buffer.alloc(10, 2), 10), 0, 10, other.write);
    release();
    await slow;
    expect([memories[0], other.pieces[0]!.memory]).toContain(used); // reused, by one of them
    expect(other.pieces[0]!.memory).not.toBe(memories[0]);
    expect(other.pieces[0]!.bytes.equals(Buffer.alloc(10, 2))).toBe(true);
  });

  it('does not reuse a piece whose write failed (something may still be reading it)', async () => {
    const memories: ArrayBufferLike[] = [];
    const failing = writePieces(chunksOf(Buffer.alloc(10, 1), 10), 0, 10, async (_at, piece) => {
      memories.push(piece.buffer);
      throw new Error('the store failed');
    });
    await expect(failing).rejects.toThrow('the store failed');
    const next = recorder();
    await writePieces(chunksOf(Buffer.alloc(10, 2), 10), 0, 10, next.write);
    expect(next.pieces[0]!.memory).not.toBe(memories[0]);
  });
});
