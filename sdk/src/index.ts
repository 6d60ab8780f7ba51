// The ESM entry: `import { createSpotlight } from '@spotlight/sdk'`.
// Each call makes an independent instance (no module-level state).

import { Spotlight, type SpotlightApi } from './spotlight';

export type { SpotlightApi } from './spotlight';
export type * from './types';

export function createSpotlight(apiUrl?: string): SpotlightApi {
  return new Spotlight(apiUrl);
}
