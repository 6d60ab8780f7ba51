import { type ReactNode } from 'react';
import { type SpotlightApi } from './index';
import type { InitOptions } from './types';
export interface SpotlightProviderProps {
    /** Where the Spotlight server is (the SDK's API origin). */
    apiUrl?: string;
    /** `init` options; `key` is required. Started once per key. */
    options: InitOptions;
    children?: ReactNode;
}
export declare function SpotlightProvider({ apiUrl, options, children }: SpotlightProviderProps): ReactNode;
export interface SpotlightUser {
    id: string;
    attributes?: Record<string, unknown>;
    /** A JWT from your identity provider proving `id`. */
    token?: string;
}
/**
 * The SDK instance of the nearest `SpotlightProvider`. Given a user (once
 * the app knows who is signed in), identifies them whenever the id, token or
 * attributes change.
 */
export declare function useSpotlight(user?: SpotlightUser | null | false): SpotlightApi;
