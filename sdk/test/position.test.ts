import { describe, expect, it } from 'vitest';
import { computePosition, cutoutPath } from '../src/core/position';

const view = { width: 1000, height: 800 };
const box = { width: 300, height: 120 };

describe('computePosition', () => {
  const cases: [string, { x: number; y: number; width: number; height: number }, Parameters<typeof computePosition>[3], string][] = [
    ['auto prefers below', { x: 400, y: 100, width: 100, height: 40 }, 'auto', 'bottom'],
    ['auto goes above when there is no room below', { x: 400, y: 700, width: 100, height: 40 }, 'auto', 'top'],
    ['top flips to bottom near the top edge', { x: 400, y: 20, width: 100, height: 40 }, 'top', 'bottom'],
    ['bottom flips to top near the bottom edge', { x: 400, y: 740, width: 100, height: 40 }, 'bottom', 'top'],
    ['left flips to right near the left edge', { x: 10, y: 400, width: 100, height: 40 }, 'left', 'right'],
    ['right stays right when it fits', { x: 100, y: 400, width: 100, height: 40 }, 'right-start', 'right'],
  ];
  for (const [name, ref, placement, side] of cases) {
    it(name, () => {
      const p = computePosition(ref, box, view, placement);
      expect(p.side).toBe(side);
      expect(p.x).toBeGreaterThanOrEqual(8);
      expect(p.x + box.width).toBeLessThanOrEqual(view.width - 8);
      expect(p.y).toBeGreaterThanOrEqual(8);
      expect(p.y + box.height).toBeLessThanOrEqual(view.height - 8);
    });
  }

  it('shifts along the edge instead of overflowing, arrow still on the target', () => {
    const ref = { x: 960, y: 100, width: 30, height: 30 };
    const p = computePosition(ref, box, view, 'bottom');
    expect(p.x).toBe(1000 - 300 - 8);
    expect(p.x + p.arrow).toBeGreaterThan(ref.x);
    expect(p.y).toBe(140);
  });

  it('aligns start and end', () => {
    const ref = { x: 400, y: 100, width: 100, height: 40 };
    expect(computePosition(ref, box, view, 'bottom-start').x).toBe(400);
    expect(computePosition(ref, box, view, 'bottom-end').x).toBe(200);
  });
});

describe('cutoutPath', () => {
  it('is the viewport alone without a hole', () => {
    expect(cutoutPath(view, null)).toBe('M0 0H1000V800H0Z');
  });
  it('adds one padded hole', () => {
    const d = cutoutPath(view, { x: 100, y: 100, width: 50, height: 20 });
    expect(d.match(/M/g)).toHaveLength(2);
    expect(d).toContain('M100 94');
  });
});

describe('mirror', () => {
  it('swaps sides and alignments for right-to-left pages', async () => {
    const { mirror } = await import('../src/core/position');
    expect(mirror('right')).toBe('left');
    expect(mirror('bottom-start')).toBe('bottom-end');
    expect(mirror('left-end')).toBe('right-start');
    expect(mirror('auto')).toBe('auto');
    expect(mirror(undefined)).toBeUndefined();
  });
});
