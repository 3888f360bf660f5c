/**
 * The action table: every EC2 action ebs-sim serves, to its handler. Actions the decoder knows
 * (they are in the model) but no handler serves yet answer UnsupportedOperation.
 */
import { ACCOUNT_ACTIONS } from './account-actions.js';
import type { ActionTable } from './handler.js';
import { INSTANCE_ACTIONS } from './instance-actions.js';
import { SNAPSHOT_ACTIONS } from './snapshot-actions.js';
import { VOLUME_ACTIONS } from './volume-actions.js';

export type { ActionTable, Handler } from './handler.js';

export const EC2_HANDLERS: ActionTable = { ...VOLUME_ACTIONS, ...SNAPSHOT_ACTIONS, ...INSTANCE_ACTIONS, ...ACCOUNT_ACTIONS };
