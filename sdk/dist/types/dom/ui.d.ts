import type { Theme } from '../types';
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
/** `h('button', {class: 'p', onclick}, 'Next')` — attributes, listeners, children. */
export declare function h(tag: string, attrs?: Attrs, ...kids: (Node | string | null | undefined | false)[]): HTMLElement;
export declare function richText(html: string | undefined, id?: string): HTMLElement;
export declare function closeButton(label: string, onclick: () => void): HTMLElement;
/** Theme tokens → custom properties; anything invalid is left at its default. */
export declare function applyTheme(el: HTMLElement, theme: Theme | undefined, warn: (m: string) => void): void;
/** The shadow host: one element, styled inline `!important` so page rules cannot move or hide it. */
export declare function createRoot(): {
    host: HTMLElement;
    root: HTMLElement;
};
/** Native dialogs and popovers sit in the top layer; join it last so steps stay above them. */
export declare function raise(host: HTMLElement): void;
/**
 * What the host makes inert or unpainted around the SDK: an open modal
 * `<dialog>` (everything outside it is inert, the SDK included) or a
 * fullscreen element (nothing outside it is painted). The root lives inside
 * the top-most one, so what it shows stays usable, and goes back to `<html>`
 * when it closes.
 */
export declare function adopt(host: HTMLElement): void;
/** Whether a keyboard event belongs to the SDK: focus is inside what it shows. */
export declare function ours(e: Event, host: HTMLElement): boolean;
export declare function focusables(root: ParentNode): HTMLElement[];
/** Tab and Shift+Tab stay inside `box`. */
export declare function trapFocus(box: HTMLElement, e: KeyboardEvent): void;
export declare function reducedMotion(): boolean;
export declare function samePath(url: string): boolean;
export {};
