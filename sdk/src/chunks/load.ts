// Loads the widgets chunk by script tag from the Spotlight origin (allowed by
// the same CSP `script-src` as the core). The ESM build swaps this module for
// `static.ts`, which bundles the renderers instead.
import type * as Widgets from '../dom/widgets';

declare const WIDGETS_FILE: string;
type W = typeof Widgets;

let loading: Promise<W> | undefined;

export function widgets(api: string): Promise<W> {
  loading ??= new Promise<W>((ok, fail) => {
    const g = window as unknown as { __spotlightWidgets?: W };
    const s = document.createElement('script');
    s.src = `${api}/sdk/v1/${WIDGETS_FILE}`;
    s.async = true;
    s.onload = () => {
      const w = g.__spotlightWidgets;
      delete g.__spotlightWidgets;
      s.remove();
      if (w) ok(w); else fail(new Error('the widgets chunk did not register'));
    };
    s.onerror = () => { loading = undefined; s.remove(); fail(new Error('the widgets chunk did not load')); };
    document.head.append(s);
  });
  return loading;
}
