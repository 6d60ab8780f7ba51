import type { Delivered, Tour } from '../types';
import type { Host } from './host';
export declare const RESUME_KEY = "spotlight:resume";
export declare class TourRun {
    #private;
    readonly item: Delivered<Tour>;
    readonly id: string;
    index: number;
    constructor(host: Host, item: Delivered<Tour>, trigger: string);
    /** `nav`: the user asked for this tour (a checklist, launcher or content button), so it may take them to its page. */
    start(at?: number, nav?: boolean): void;
    /** Shows step `i` (searching in direction `dir` past skipped steps); never rejects. */
    go(i: number, dir: 1 | -1, nav?: boolean): void;
    /** The page changed (history, hash): hide what is not of this page, show what is. */
    route(): void;
    next(): void;
    finish(how: 'completed' | 'dismissed', stepDone?: boolean): void;
    /** Removed without an event (kill switch, navigation away, `stop()`). */
    remove(): void;
}
