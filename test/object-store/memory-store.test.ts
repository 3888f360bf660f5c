import { MemoryStore } from '../../src/object-store/index.js';
import { objectStoreSuite } from './suite.js';

// No reopen: a MemoryStore's data lives and dies with the instance.
objectStoreSuite('memory', { open: async () => new MemoryStore() }, { keyAlsoPrefix: true });
