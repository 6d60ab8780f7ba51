// The event queue: batches of at most 20, sent after a short pause or when full;
// kept in localStorage (bounded) so a reload or an offline spell loses nothing;
// retried with backoff and jitter; flushed with `fetch(keepalive)` — or
// `sendBeacon` where that fails — when the page is hidden. Resending is safe:
// the server stores each `event_id` once.

import { uuidv7 } from './uuid';

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

export const BATCH = 20;
export const MAX_QUEUE = 500;
/** `fetch(keepalive)` bodies share a 64 KiB budget per page. */
const KEEPALIVE_BYTES = 60_000;

export class EventQueue {
  #q: QueuedEvent[];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending = false;
  #failures = 0;
  #stopped = false;

  #transport: Transport;
  #store: Store;
  #storeKey: string;
  #delayMs: number;

  constructor(transport: Transport, store: Store, storeKey: string, delayMs = 1000) {
    this.#transport = transport;
    this.#store = store;
    this.#storeKey = storeKey;
    this.#delayMs = delayMs;
    let saved: QueuedEvent[] = [];
    try {
      const parsed: unknown = JSON.parse(store.get(storeKey) ?? '[]');
      if (Array.isArray(parsed)) saved = parsed as QueuedEvent[];
    } catch { /* a corrupt queue is dropped */ }
    this.#q = saved.slice(-MAX_QUEUE);
    if (this.#q.length) this.#schedule(0);
  }

  get size(): number { return this.#q.length; }

  push(e: Omit<QueuedEvent, 'event_id' | 'schema_version' | 'timestamp'>, now = Date.now()): QueuedEvent {
    const ev: QueuedEvent = { event_id: uuidv7(now), schema_version: 1, timestamp: now, ...e };
    this.#q.push(ev);
    // Bounded: the oldest go first.
    if (this.#q.length > MAX_QUEUE) this.#q.splice(0, this.#q.length - MAX_QUEUE);
    this.#save();
    this.#schedule(this.#q.length >= BATCH ? 0 : this.#delayMs);
    return ev;
  }

  #save(): void {
    try { this.#store.set(this.#storeKey, JSON.stringify(this.#q)); } catch { /* quota: memory only */ }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => { this.#timer = undefined; void this.flush(); }, ms);
  }

  /** Sends everything queued, a batch at a time. */
  async flush(): Promise<void> {
    if (this.#sending || this.#stopped) return;
    this.#sending = true;
    try {
      while (this.#q.length) {
        const batch = this.#q.slice(0, BATCH);
        const status = await this.#transport.send(JSON.stringify({ events: batch }), false);
        if (status === 202 || status === 400 || status === 413 || status === 422) {
          // Stored, or refused for good (the server said why; resending cannot help).
          const sent = new Set(batch.map((e) => e.event_id));
          this.#q = this.#q.filter((e) => !sent.has(e.event_id));
          this.#save();
          this.#failures = 0;
          continue;
        }
        if (status === 401 || status === 403) {
          this.#stopped = true; // a revoked key or a refused origin: stop, keep the events
          return;
        }
        this.#failures++;
        const backoff = Math.min(60_000, 1000 * 2 ** Math.min(this.#failures, 6));
        this.#schedule(backoff / 2 + Math.random() * backoff / 2);
        return;
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Drops everything queued, in memory and in storage (the user opted out). */
  clear(): void {
    this.#q = [];
    this.#save();
  }

  /** The page is going away: hand what is left to the browser. */
  flushOnHide(): void {
    if (!this.#q.length || this.#stopped) return;
    const batch: QueuedEvent[] = [];
    let bytes = 20;
    for (const e of this.#q.slice(0, 100)) {
      const n = JSON.stringify(e).length + 1;
      if (bytes + n > KEEPALIVE_BYTES) break;
      bytes += n;
      batch.push(e);
    }
    const body = JSON.stringify({ events: batch });
    if (!this.#transport.beacon(body)) void this.#transport.send(body, true);
    // Kept in storage until the server has answered; a resend is harmless.
  }
}
