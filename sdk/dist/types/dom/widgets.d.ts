import type { Checklist, Config, Content, Delivered, Launcher, Progress } from '../types';
import type { Survey } from '../types';
import { type Answer } from './survey';
import type { Host } from './host';
/** A survey step's answer control (tours load this chunk for survey steps only). */
export declare function survey(host: Host, s: Survey, answer: (a: Answer) => void): HTMLElement;
type Side = 'top' | 'right' | 'bottom' | 'left';
type Edges = Record<Side, number>;
/**
 * What the host keeps along each edge, which the SDK's widgets never cover:
 * what it declares (the `insets` init option, `--spotlight-inset-*` on `:root`)
 * and the fixed bars found at the top and bottom edges (a sticky header that
 * scrolls with the page is pushed down with it instead).
 */
export declare function insets(host: Host): Edges;
export declare function showContent(host: Host, item: Delivered<Content>, onGone: () => void): () => void;
export declare function showChecklist(host: Host, item: Delivered<Checklist>, progress: Progress | undefined, done: Set<string>, onDismiss: () => void): {
    remove: () => void;
    refresh: () => void;
    open: () => void;
};
export declare function showLauncher(host: Host, item: Delivered<Launcher>, titles: (kind: string, id: string) => string | undefined): () => void;
/**
 * What the SDK shows besides tours, for one instance: announcements, checklists
 * and launchers delivered by the config, kept in step with each new config,
 * with event-triggered announcements and checklist ticks.
 */
export declare class Shelf {
    #private;
    private host;
    constructor(host: Host);
    apply(cfg: Config): void;
    tracked(name: string): void;
    tourDone(tourId: string): void;
    open(id: string): void;
    clear(): void;
}
export {};
