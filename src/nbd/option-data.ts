/** The option's data is shorter or longer than its fields say: NBD_REP_ERR_INVALID. */
export class InvalidOptionError extends Error {
  readonly code = 'NBD_INVALID_OPTION';
}

/** The spec's limit for any string (export names, queries, messages). */
const MAX_STRING_BYTES = 4096;

/** A bounds-checked cursor over one option's data. */
export class OptionData {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  string(length: number): string {
    if (length > MAX_STRING_BYTES) throw new InvalidOptionError(`string of ${length} bytes exceeds ${MAX_STRING_BYTES}`);
    this.need(length);
    const s = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return s;
  }

  /** Every field was read and nothing trails. */
  end(): void {
    if (this.remaining !== 0) throw new InvalidOptionError(`${this.remaining} unexpected trailing bytes`);
  }

  private need(n: number): void {
    if (this.remaining < n) throw new InvalidOptionError('option data too short');
  }
}
