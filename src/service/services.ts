/**
 * The simulated AWS service, one service per resource: what the protocol handlers, the data
 * plane and NBD call (`services.snapshots.create(ctx, input)`). Each is its folder's verbs bound
 * to the shared state (context.ts), so adding an action touches its service and one protocol table.
 */
import { settingsService, tagService } from './account/index.js';
import type { ServiceState } from './context.js';
import { consoleService } from './console/index.js';
import { directService } from './direct/index.js';
import { guestService, instanceService } from './instances/index.js';
import { snapshotService } from './snapshots/index.js';
import { volumeService } from './volumes/index.js';

export function openServices(s: ServiceState) {
  return {
    volumes: volumeService(s),
    snapshots: snapshotService(s),
    instances: instanceService(s),
    guests: guestService(s),
    tags: tagService(s),
    settings: settingsService(s),
    /** The EBS direct APIs. */
    direct: directService(s),
    /** What the web console reads: overview, block maps, lineage. */
    console: consoleService(s),
  };
}

export type Services = ReturnType<typeof openServices>;
export type { CallerContext } from './context.js';
export type { DataCaller } from './volumes/volume-io.js';
