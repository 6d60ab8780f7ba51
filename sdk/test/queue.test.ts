import { describe, expect, it } from 'vitest';
import { EventQueue, MAX_QUEUE, type Transport } from '../src/core/queue';
import { uuidv4, uuidv7 } from '../src/core/uuid';

function memory() {
  const m = new Map<string, string>();
  return { get: (k: string) => m.get(k) ?? null, set: (k: string, v: string) => void m.set(k, v), m };
}

function transport(statuses: number[]) {
  const sent: { events: { event_id: string }[] }[] = [];
  const t: Transport = {
    send: async (body) => { sent.push(JSON.parse(body)); return statuses.shift() ?? 202; },
    beacon: () => false,
  };
  return { t, sent };
}

const ev = { name: 'x', user_id: 'u', session_id: 's' };

describe('EventQueue', () => {
  it('sends in batches of 20 and forgets what was stored', async () => {
    const store = memory();
    const { t, sent } = transport([]);
    const q = new EventQueue(t, store, 'q', 60_000);
    for (let i = 0; i < 45; i++) q.push(ev);
    await q.flush();
    expect(sent.map((b) => b.events.length)).toEqual([20, 20, 5]);
    expect(q.size).toBe(0);
    expect(JSON.parse(store.get('q')!)).toEqual([]);
  });

  it('keeps events across a failure and a reload, and resends the same ids', async () => {
    const store = memory();
    const first = transport([503]);
    const q = new EventQueue(first.t, store, 'q', 60_000);
    q.push(ev);
    await q.flush();
    expect(q.size).toBe(1);
    const id = first.sent[0]!.events[0]!.event_id;
    const second = transport([202]);
    const again = new EventQueue(second.t, store, 'q', 60_000);
    await again.flush();
    expect(second.sent[0]!.events[0]!.event_id).toBe(id);
    expect(again.size).toBe(0);
  });

  it('drops a batch the server refused for good (422), stops on 401', async () => {
    const store = memory();
    const { t } = transport([422, 401]);
    const q = new EventQueue(t, store, 'q', 60_000);
    q.push(ev);
    await q.flush();
    expect(q.size).toBe(0);
    q.push(ev);
    await q.flush();
    expect(q.size).toBe(1);
  });

  it('is bounded', () => {
    const { t } = transport([]);
    const q = new EventQueue({ ...t, send: async () => 0 }, memory(), 'q', 60_000);
    for (let i = 0; i < MAX_QUEUE + 50; i++) q.push(ev);
    expect(q.size).toBe(MAX_QUEUE);
  });
});

describe('uuid', () => {
  it('v7 is time-ordered and well-formed', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(a.slice(0, 13).replace('-', '')).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  });
  it('v4 is well-formed', () => {
    expect(uuidv4()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
