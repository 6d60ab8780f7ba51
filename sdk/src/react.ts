// The React binding (`@spotlight/sdk/react`): a provider that owns one SDK
// instance for the app, and `useSpotlight()` to reach it — given the
// signed-in user, it identifies them. Calls made before the provider has
// started the SDK (children's effects run first) are kept and replayed in
// order, so the first config request already carries the user.
import { createContext, createElement, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { createSpotlight, type SpotlightApi } from './index';
import type { InitOptions } from './types';

const Context = createContext<SpotlightApi | null>(null);

export interface SpotlightProviderProps {
  /** Where the Spotlight server is (the SDK's API origin). */
  apiUrl?: string;
  /** `init` options; `key` is required. Started once per key. */
  options: InitOptions;
  children?: ReactNode;
}

type Call = [keyof SpotlightApi, unknown[]];

/** An API whose calls wait (in order) until `ready` is set, then go straight through. */
function deferred(sdk: SpotlightApi) {
  let ready = false;
  const pending: Call[] = [];
  const call = (m: keyof SpotlightApi, a: unknown[]): unknown => {
    if (!ready && m !== 'init' && m !== 'on') { pending.push([m, a]); return m === 'start' ? false : undefined; }
    return (sdk[m] as (...x: unknown[]) => unknown)(...a);
  };
  const api = {} as SpotlightApi;
  for (const m of ['init', 'identify', 'group', 'track', 'start', 'stop', 'reset', 'on', 'optOut', 'optIn'] as const) {
    (api as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => call(m, a);
  }
  let key = '';
  return {
    api,
    /** Starts the SDK once per key (React may run an effect twice). */
    start(options: InitOptions) {
      if (options.key === key) return;
      key = options.key;
      sdk.init(options);
      ready = true;
      for (const [m, a] of pending.splice(0)) call(m, a);
    },
  };
}

export function SpotlightProvider({ apiUrl, options, children }: SpotlightProviderProps): ReactNode {
  const d = useMemo(() => deferred(createSpotlight(apiUrl)), [apiUrl]);
  // The latest options without restarting on every render (a new `navigate` each time is fine).
  const latest = useRef(options);
  latest.current = options;
  useEffect(() => {
    d.start({ ...latest.current, navigate: (url) => (latest.current.navigate ?? ((u: string) => location.assign(u)))(url) });
  }, [d, options.key]);
  return createElement(Context.Provider, { value: d.api }, children);
}

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
export function useSpotlight(user?: SpotlightUser | null | false): SpotlightApi {
  const api = useContext(Context);
  if (!api) throw new Error('useSpotlight() needs a <SpotlightProvider> above it');
  const attrs = user ? JSON.stringify(user.attributes ?? {}) : '';
  useEffect(() => {
    if (user) api.identify(user.id, user.attributes, user.token);
  }, [api, user ? user.id : '', user ? user.token : '', attrs]);
  return api;
}
