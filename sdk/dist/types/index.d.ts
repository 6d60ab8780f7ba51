import { type SpotlightApi } from './spotlight';
export type { SpotlightApi } from './spotlight';
export type * from './types';
export declare function createSpotlight(apiUrl?: string): SpotlightApi;
