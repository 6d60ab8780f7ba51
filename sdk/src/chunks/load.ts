// Loads lazy chunks by script tag from the Spotlight origin (allowed by the same
// CSP `script-src` as the core). Each chunk registers itself on one global,
// which is read and cleared at once. The ESM build swaps this module for
// `static.ts`, which bundles the widgets instead.
import type * as Widgets from '../dom/widgets';
import type * as Editor from '../editor/editor';

declare const WIDGETS_FILE: string;
declare const EDITOR_FILE: string;

const loading = new Map<string, Promise<unknown>>();

function chunk<T>(api: string, file: string, global: string): Promise<T> {
  let p = loading.get(file) as Promise<T> | undefined;
  if (!p) {
    p = new Promise<T>((ok, fail) => {
      const g = window as unknown as Record<string, T | undefined>;
      const s = document.createElement('script');
      s.src = `${api}/sdk/v1/${file}`;
      s.async = true;
      s.onload = () => {
        const m = g[global];
        delete g[global];
        s.remove();
        if (m) ok(m); else fail(new Error(`${file} did not register`));
      };
      s.onerror = () => { loading.delete(file); s.remove(); fail(new Error(`${file} did not load`)); };
      document.head.append(s);
    });
    loading.set(file, p);
  }
  return p;
}

export const widgets = (api: string) => chunk<typeof Widgets>(api, WIDGETS_FILE, '__spotlightWidgets');
export const editor = (api: string) => chunk<typeof Editor>(api, EDITOR_FILE, '__spotlightEditor');
