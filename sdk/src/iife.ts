// The script-tag entry (`/sdk/v1/spotlight.js`). Replays calls the loader
// snippet queued before this loaded, and starts by itself from
// `<script src=… data-key="pk_…">` (no inline script needed under a strict CSP).

import { Spotlight } from './spotlight';

type Queued = { q?: [string, ArrayLike<unknown>][] };

(() => {
  const w = window as unknown as { spotlight?: Queued & Record<string, unknown> };
  const script = document.currentScript as HTMLScriptElement | null;
  let api: string | undefined;
  try { api = script?.src ? new URL(script.src).origin : undefined; } catch { /* inline */ }
  const sl = new Spotlight(api);
  const methods = ['init', 'identify', 'group', 'track', 'start', 'stop', 'reset', 'on', 'optOut', 'optIn'] as const;
  const pending = w.spotlight?.q ?? [];
  const apiObj: Record<string, unknown> = {};
  for (const m of methods) apiObj[m] = (sl[m] as (...a: unknown[]) => unknown).bind(sl);
  w.spotlight = apiObj;
  // `data-key` starts it first, so calls the page queued before this loaded
  // (`identify` of the signed-in user, `track`) apply to the started instance.
  const key = script?.dataset.key;
  if (key && !pending.some(([m]) => m === 'init')) {
    const wait = script?.dataset.waitForIdentify;
    sl.init({ key, userId: script?.dataset.userId, debug: script?.dataset.debug !== undefined, waitForIdentify: wait === undefined ? undefined : +wait || true });
  }
  for (const [m, args] of pending) {
    if ((methods as readonly string[]).includes(m)) (apiObj[m] as (...a: unknown[]) => unknown)(...Array.from(args));
  }
})();
