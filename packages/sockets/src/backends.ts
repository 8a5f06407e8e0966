/**
 * Loads the backend a configuration chooses. Each backend package exports `backend` (core's
 * `Backend`); it is imported only when chosen, so picking x86 never loads a simulator.
 */
import type { Backend, BackendName } from '@flextoe/core';

const LOADERS: Record<BackendName, () => Promise<{ backend: Backend }>> = {
  x86: () => import('@flextoe/backend-x86'),
  'agilio-sim': () => import('@flextoe/backend-agilio-sim'),
  'bluefield-sim': () => import('@flextoe/backend-bluefield-sim'),
};

export async function loadBackend(name: BackendName): Promise<Backend> {
  const load = LOADERS[name];
  // The config schema already refuses unknown names; this guards direct callers.
  if (load === undefined)
    throw new RangeError(
      `unknown backend "${String(name)}"; choose one of ${Object.keys(LOADERS).join(', ')}`,
    );
  return (await load()).backend;
}
