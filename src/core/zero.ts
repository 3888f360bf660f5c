/** All-zero detection: an all-zero block is a hole, never a chunk. */
const ZEROS = Buffer.alloc(1 << 20);

export function isZero(data: Buffer): boolean {
  for (let at = 0; at < data.length; at += ZEROS.length) {
    const end = Math.min(data.length, at + ZEROS.length);
    if (!data.subarray(at, end).equals(ZEROS.subarray(0, end - at))) return false;
  }
  return true;
}
