export interface QueuedEvent {
    event_id: string;
    schema_version: 1;
    name: string;
    timestamp: number;
    user_id: string;
    /** The account (B2B) the user acted for, when there is one. */
    account_id?: string;
    session_id: string;
    properties?: Record<string, unknown>;
}
export interface Transport {
    /** Resolves to the HTTP status, or 0 when the network failed. */
    send(body: string, keepalive: boolean): Promise<number>;
    beacon(body: string): boolean;
}
export interface Store {
    get(k: string): string | null;
    set(k: string, v: string): void;
}
export declare const BATCH = 20;
export declare const MAX_QUEUE = 500;
export declare class EventQueue {
    #private;
    constructor(transport: Transport, store: Store, storeKey: string, delayMs?: number);
    get size(): number;
    push(e: Omit<QueuedEvent, 'event_id' | 'schema_version' | 'timestamp'>, now?: number): QueuedEvent;
    /** Sends everything queued, a batch at a time. */
    flush(): Promise<void>;
    /** Drops everything queued, in memory and in storage (the user opted out). */
    clear(): void;
    /** The page is going away: hand what is left to the browser. */
    flushOnHide(): void;
}
