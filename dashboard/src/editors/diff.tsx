// A line diff of two documents (pretty JSON, keys sorted), by longest common
// subsequence — small documents, so the quadratic table is fine (bounded).
export type Line = { op: ' ' | '+' | '-'; text: string };

export function pretty(v: unknown): string {
  const sort = (x: unknown): unknown => Array.isArray(x) ? x.map(sort)
    : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])])) : x;
  return JSON.stringify(sort(v), null, 2);
}

export function diffLines(a: string, b: string): Line[] {
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.length * y.length > 4_000_000) return [...x.map((text): Line => ({ op: '-', text })), ...y.map((text): Line => ({ op: '+', text }))];
  const n = x.length, m = y.length;
  const t = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) t[i]![j] = x[i] === y[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
  const out: Line[] = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push({ op: ' ', text: x[i]! }); i++; j++; }
    else if (t[i + 1]![j]! >= t[i]![j + 1]!) out.push({ op: '-', text: x[i++]! });
    else out.push({ op: '+', text: y[j++]! });
  }
  while (i < n) out.push({ op: '-', text: x[i++]! });
  while (j < m) out.push({ op: '+', text: y[j++]! });
  return out;
}

/** Changed lines with three lines of context; long unchanged runs folded. */
export function Diff({ from, to, fromLabel, toLabel }: { from: unknown; to: unknown; fromLabel: string; toLabel: string }) {
  const lines = diffLines(pretty(from), pretty(to));
  const keep = lines.map((l, i) => l.op !== ' ' || lines.slice(Math.max(0, i - 3), i + 4).some((x) => x.op !== ' '));
  const changed = lines.some((l) => l.op !== ' ');
  return (
    <figure class="diff">
      <figcaption><span class="del">− {fromLabel}</span> <span class="ins">+ {toLabel}</span></figcaption>
      {!changed ? <p>No differences.</p> : (
        <pre>{lines.map((l, i) => keep[i] ? <div class={l.op === '+' ? 'ins' : l.op === '-' ? 'del' : ''}>{l.op} {l.text}</div> : keep[i - 1] ? <div class="fold">…</div> : null)}</pre>
      )}
    </figure>
  );
}
