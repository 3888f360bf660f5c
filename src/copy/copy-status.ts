/**
 * What the copy engine tells the world about one snapshot's upload. Persisted (core records,
 * namespace `copy`) so that a restart resumes where it stopped and progress never goes back.
 */
export type CopyState = 'pending' | 'completed' | 'error';

export interface CopyStatus {
  snapshotId: string;
  /** The volume it was frozen from (for a CopySnapshot copy: the source's volume). */
  volumeId: string;
  volumeSize: number;
  blockSize: number;
  state: CopyState;
  /** Integer percent of blocks durably in the object store. Monotonic; 100 only when completed. */
  progress: number;
  blocksTotal: number;
  blocksDone: number;
  /** Bytes this snapshot really uploaded, and bytes it found already stored (dedup). */
  bytesUploaded: number;
  bytesDeduplicated: number;
  /** The snapshot whose manifest this one is incremental to, if any. */
  parentId: string | null;
  /** Set for a CopySnapshot copy: the snapshot it copies (it has no local volume data). */
  copiedFrom?: string;
  /** Snapshots frozen together (CreateSnapshots): if one fails, all show error. */
  groupId?: string;
  /** Why it failed, when state is error. */
  message?: string;
  /**
   * While pending: the object-store failure its copy is retrying (status() only, never
   * persisted). Cleared when a call succeeds again.
   */
  trouble?: string;
  /** DeleteSnapshot was called while pending: it is deleted once the copy settles. */
  deleteRequested?: boolean;
  startedAt: string;
  completedAt?: string;
  /**
   * Set for a snapshot written through the EBS direct APIs (no volume): the progress its client
   * reports, and, once CompleteSnapshot was called, what the seal checks.
   */
  direct?: { progress: number; sealing?: { changedBlocks: number; checksum?: string } };
}
