/** A verb of the service, `fn(s, ...args)`, bound to one service state: what a resource's service exposes. */
import type { ServiceState } from './context.js';

export function bindTo(s: ServiceState) {
  return <A extends unknown[], R>(fn: (s: ServiceState, ...args: A) => R) => (...args: A): R => fn(s, ...args);
}
