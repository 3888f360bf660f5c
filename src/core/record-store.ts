/**
 * Opaque JSON records for the layers above the core (the EC2 catalog, copy progress), kept in
 * the same LevelDB so that they can change in the same atomic batch as a volume or snapshot.
 */
import type { ClassicLevel } from 'classic-level';
import * as keys from './keys.js';
import { decodeJson, encodeJson } from './records.js';
import { WriteTx } from './write-tx.js';

/** A record to put (value) or delete (value null) along with a core mutation. */
export interface RecordPut {
  namespace: string;
  id: string;
  value: unknown;
}

export class RecordStore {
  constructor(
    private readonly db: ClassicLevel<Buffer, Buffer>,
    /** Runs a mutation with every other mutation excluded. */
    private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
    private readonly commit: (tx: WriteTx) => Promise<void>,
  ) {}

  async get<T>(namespace: string, id: string): Promise<T | undefined> {
    const v = await this.db.get(keys.recordKey(namespace, id));
    return v === undefined ? undefined : decodeJson<T>(v);
  }

  /** Puts (or, with a null value, deletes) records in one atomic batch. */
  async write(puts: RecordPut[]): Promise<void> {
    await this.exclusive(async () => {
      const tx = new WriteTx();
      this.stage(tx, puts);
      await this.commit(tx);
    });
  }

  put(namespace: string, id: string, value: unknown): Promise<void> {
    return this.write([{ namespace, id, value }]);
  }

  delete(namespace: string, id: string): Promise<void> {
    return this.write([{ namespace, id, value: null }]);
  }

  async *list<T>(namespace: string): AsyncGenerator<[string, T]> {
    for await (const [key, value] of this.db.iterator(keys.prefixRange(keys.recordPrefix(namespace)))) {
      yield [keys.parseRecordKey(key, namespace), decodeJson<T>(value)];
    }
  }

  stage(tx: WriteTx, puts: RecordPut[] | undefined): void {
    for (const r of puts ?? []) {
      const key = keys.recordKey(r.namespace, r.id);
      if (r.value === null) tx.del(key);
      else tx.put(key, encodeJson(r.value));
    }
  }
}
