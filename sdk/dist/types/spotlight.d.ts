import type { Config, Delivered, InitOptions } from './types';
import { TourRun } from './dom/tour';
import type * as Widgets from './dom/widgets';
import type { Host, KV } from './dom/host';
export interface SpotlightApi {
    init(options: InitOptions): void;
    identify(userId: string, attributes?: Record<string, unknown>, userToken?: string): void;
    group(accountId: string, attributes?: Record<string, unknown>): void;
    track(name: string, properties?: Record<string, unknown>): void;
    start(tourId: string): boolean;
    stop(): void;
    reset(): void;
    on(event: string, handler: (detail: Record<string, unknown>) => void): () => void;
    optOut(): void;
    optIn(): void;
}
export declare class Spotlight implements Host, SpotlightApi {
    #private;
    readonly localKV: KV;
    readonly session: KV;
    /** Tours and announcements ended in this session. */
    readonly endedIds: Set<string>;
    constructor(defaultApi?: string);
    init(options: InitOptions): void;
    identify(userId: string, attributes?: Record<string, unknown>, userToken?: string): void;
    /** The user's active account (their company); its attributes merge into the stored ones. */
    group(accountId: string, attributes?: Record<string, unknown>): void;
    track(name: string, properties?: Record<string, unknown>): void;
    start(tourId: string): boolean;
    stop(): void;
    reset(): void;
    /**
     * The user opts out (remembered on this device): what is on screen goes,
     * queued events are dropped, and no config is asked for and no event sent
     * until `optIn()`.
     */
    optOut(): void;
    /** The user opts back in: content and events resume. */
    optIn(): void;
    on(event: string, handler: (detail: Record<string, unknown>) => void): () => void;
    get hostEl(): HTMLElement;
    ui(): HTMLElement;
    get options(): InitOptions | null;
    theme(el: HTMLElement, themeId: string | undefined): void;
    emit(event: string, detail: Record<string, unknown>): void;
    warn(message: string): void;
    guard<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void;
    flush(): void;
    /** Only ever called by a step button the user pressed: the host's router if it gave one. */
    navigate(url: string): void;
    tourEnded(run: TourRun, how: 'completed' | 'dismissed'): void;
    startTour(id: string, trigger: string): boolean;
    previewing(): boolean;
    setPreview(on: boolean): void;
    apiOrigin(): string;
    widgets(): Promise<typeof Widgets>;
    openChecklist(id: string): void;
    /** Fetches the config for this user and page, then shows what it says. */
    load(): Promise<void>;
    exposeArm(item: Delivered<unknown>): void;
    /** Remembers for this session that a tour or announcement ended. */
    end(id: string): void;
    get cfg(): Config | null;
    get touring(): boolean;
}
