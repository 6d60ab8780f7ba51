import type { Target } from '../types';
export declare function visible(el: Element): boolean;
/** The best element for a fingerprint, or null. Broken selectors are ignored. */
export declare function resolve(t: Target, doc?: Document): Element | null;
/** Resolves now, or as soon as the DOM shows it, or null after `timeout` ms. */
export declare function waitFor(t: Target, timeout: number, doc?: Document): Promise<Element | null>;
/** The element's box in the top document's viewport (iframes offset). */
export declare function rectOf(el: Element): DOMRect;
/**
 * The part of the element its scrolling or clipping ancestors let through (in
 * the top document's viewport), or null when nothing of it shows: a step
 * points at what the user can see, not at a box scrolled out of its container.
 */
export declare function shownRect(el: Element): DOMRect | null;
