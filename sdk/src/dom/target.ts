// Finding a step's element from its fingerprint: every candidate selector is
// tried (in the document, in open shadow roots, in a same-origin iframe); each
// element found scores by which selectors matched it (earlier ones weigh more,
// selectors matching many elements less) and by its text, so a renamed class or
// a moved button still resolves. Late targets are awaited with a
// MutationObserver up to the step's timeout.

import type { Target } from '../types';

type Root = Document | ShadowRoot;

/** The document and every open shadow root under it. */
function roots(doc: Document): Root[] {
  const out: Root[] = [doc];
  const walk = (root: Root) => {
    const all = root.querySelectorAll('*');
    for (let i = 0; i < all.length; i++) {
      const sr = all[i]!.shadowRoot;
      if (sr && sr.mode === 'open' && !(all[i] as HTMLElement).hasAttribute('data-spotlight')) {
        out.push(sr);
        walk(sr);
      }
    }
  };
  walk(doc);
  return out;
}

function frameDoc(doc: Document, selector: string): Document | null {
  try {
    const f = doc.querySelector(selector);
    return (f instanceof HTMLIFrameElement && f.contentDocument) || null;
  } catch {
    return null; // cross-origin or a broken selector
  }
}

function norm(s: string | null | undefined): string {
  return (s ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
}

export function visible(el: Element): boolean {
  const r = el.getBoundingClientRect();
  return r.width > 0 || r.height > 0;
}

/** The best element for a fingerprint, or null. Broken selectors are ignored. */
export function resolve(t: Target, doc: Document = document): Element | null {
  const d = t.frame ? frameDoc(doc, t.frame) : doc;
  if (!d) return null;
  const scores = new Map<Element, number>();
  const rs = roots(d);
  const n = t.selectors.length;
  t.selectors.forEach((sel, i) => {
    const found: Element[] = [];
    for (const r of rs) {
      try {
        r.querySelectorAll(sel).forEach((e) => found.push(e));
      } catch { /* not a valid selector in this browser */ }
    }
    if (!found.length) return;
    const weight = (n - i + 1) / found.length;
    for (const e of found) scores.set(e, (scores.get(e) ?? 0) + weight);
  });
  const text = norm(t.text);
  if (text) {
    // Text alone can find it too (the selectors may all have drifted).
    if (!scores.size) {
      for (const r of rs) {
        r.querySelectorAll('button,a,[role],label,h1,h2,h3,h4,li,td,th,span,p,input')
          .forEach((e) => {
            if (norm(e.textContent) === text || norm(e.getAttribute('aria-label')) === text) scores.set(e, 0.5);
          });
      }
    }
    for (const [e, s] of scores) {
      const own = norm(e.textContent) || norm(e.getAttribute('aria-label')) || norm((e as HTMLInputElement).placeholder);
      if (own === text) scores.set(e, s + n);
      else if (own.includes(text)) scores.set(e, s + n / 2);
    }
  }
  let best: Element | null = null;
  let top = 0;
  for (const [e, s] of scores) {
    const score = visible(e) ? s : s / 4;
    if (score > top) { top = score; best = e; }
  }
  return best;
}

/** Resolves now, or as soon as the DOM shows it, or null after `timeout` ms. */
export function waitFor(t: Target, timeout: number, doc: Document = document): Promise<Element | null> {
  const found = () => {
    const e = resolve(t, doc);
    return e && visible(e) ? e : null;
  };
  const now = found();
  if (now || timeout <= 0) return Promise.resolve(now);
  return new Promise((done) => {
    let pending = false;
    const check = () => {
      pending = false;
      const e = found();
      if (e) finish(e);
    };
    // The first change in a frame is looked at at once (the step can be drawn
    // in the frame that first paints its target); later ones wait for the frame.
    const obs = new MutationObserver(() => {
      if (pending) return;
      const e = found();
      if (e) finish(e);
      else { pending = true; requestAnimationFrame(check); }
    });
    const timer = setTimeout(() => finish(found()), timeout);
    // Mutations inside shadow roots do not reach the document's observer.
    const tick = setInterval(check, 250);
    function finish(e: Element | null) {
      obs.disconnect();
      clearTimeout(timer);
      clearInterval(tick);
      done(e);
    }
    obs.observe(doc.documentElement, { childList: true, subtree: true, attributes: true });
  });
}

/** The element's box in the top document's viewport (iframes offset). */
export function rectOf(el: Element): DOMRect {
  const r = el.getBoundingClientRect();
  const win = el.ownerDocument.defaultView;
  const frame = win && win !== window ? (win.frameElement as Element | null) : null;
  if (!frame) return r;
  const f = rectOf(frame);
  return new DOMRect(r.x + f.x + frame.clientLeft, r.y + f.y + frame.clientTop, r.width, r.height);
}

/**
 * The part of the element its scrolling or clipping ancestors let through (in
 * the top document's viewport), or null when nothing of it shows: a step
 * points at what the user can see, not at a box scrolled out of its container.
 */
export function shownRect(el: Element): DOMRect | null {
  if (!el.isConnected) return null;
  const r = rectOf(el);
  let [x0, y0, x1, y1] = [r.left, r.top, r.right, r.bottom];
  if (el.ownerDocument === document) {
    for (let p: Element | null = el; (p = p.parentElement ?? ((p.getRootNode() as ShadowRoot).host || null)) && p !== document.body && p !== document.documentElement;) {
      const s = getComputedStyle(p);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        const c = p.getBoundingClientRect();
        [x0, y0, x1, y1] = [Math.max(x0, c.left), Math.max(y0, c.top), Math.min(x1, c.right), Math.min(y1, c.bottom)];
      }
      if (s.position === 'fixed') break;
    }
  }
  return x1 - x0 >= 1 && y1 - y0 >= 1 ? new DOMRect(x0, y0, x1 - x0, y1 - y0) : null;
}
