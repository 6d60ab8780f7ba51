// Where a floating box goes beside its reference: the wanted side first, the
// opposite side when it does not fit (flip), then pushed back inside the
// viewport (shift). Pure geometry, so it is unit-tested without a browser.

import type { Placement } from '../types';

export interface Rect { x: number; y: number; width: number; height: number }
export interface Size { width: number; height: number }
export type Side = 'top' | 'bottom' | 'left' | 'right';

export interface Placed { x: number; y: number; side: Side; arrow: number }

const OPPOSITE: Record<Side, Side> = { top: 'bottom', bottom: 'top', left: 'right', right: 'left' };

function room(side: Side, ref: Rect, view: Size): number {
  switch (side) {
    case 'top': return ref.y;
    case 'bottom': return view.height - (ref.y + ref.height);
    case 'left': return ref.x;
    case 'right': return view.width - (ref.x + ref.width);
  }
}

function need(side: Side, box: Size, gap: number): number {
  return (side === 'top' || side === 'bottom' ? box.height : box.width) + gap;
}

export function computePosition(
  ref: Rect,
  box: Size,
  view: Size,
  placement: Placement = 'auto',
  gap = 10,
  margin = 8,
): Placed {
  const [wanted, align] = placement.split('-') as [Side | 'auto', 'start' | 'end' | undefined];
  let side: Side;
  if (wanted === 'auto') {
    // The side with the most room that fits, preferring below.
    const order: Side[] = ['bottom', 'top', 'right', 'left'];
    side = order.find((s) => room(s, ref, view) >= need(s, box, gap))
      ?? order.reduce((a, b) => (room(b, ref, view) > room(a, ref, view) ? b : a));
  } else {
    side = wanted;
    if (room(side, ref, view) < need(side, box, gap) && room(OPPOSITE[side], ref, view) > room(side, ref, view)) {
      side = OPPOSITE[side];
    }
  }
  const vertical = side === 'top' || side === 'bottom';
  let x: number;
  let y: number;
  if (vertical) {
    y = side === 'top' ? ref.y - box.height - gap : ref.y + ref.height + gap;
    x = align === 'start' ? ref.x : align === 'end' ? ref.x + ref.width - box.width : ref.x + (ref.width - box.width) / 2;
  } else {
    x = side === 'left' ? ref.x - box.width - gap : ref.x + ref.width + gap;
    y = align === 'start' ? ref.y : align === 'end' ? ref.y + ref.height - box.height : ref.y + (ref.height - box.height) / 2;
  }
  // Shift along the cross axis to stay in view; the main axis only if the box
  // cannot fit on either side at all.
  const clamp = (v: number, size: number, total: number) =>
    Math.max(margin, Math.min(v, total - size - margin));
  x = clamp(x, box.width, view.width);
  y = clamp(y, box.height, view.height);
  // The arrow points at the reference's centre, kept on the box.
  const arrow = vertical
    ? Math.max(12, Math.min(ref.x + ref.width / 2 - x, box.width - 12))
    : Math.max(12, Math.min(ref.y + ref.height / 2 - y, box.height - 12));
  return { x: Math.round(x), y: Math.round(y), side, arrow: Math.round(arrow) };
}

const MIRRORED: Record<string, string> = { left: 'right', right: 'left', start: 'end', end: 'start' };

/** A placement as a right-to-left page reads it: sides and alignments swap. */
export function mirror(p: Placement | undefined): Placement | undefined {
  return p?.replace(/left|right|start|end/g, (m) => MIRRORED[m]!) as Placement | undefined;
}

/** The overlay path: the viewport with one rounded hole (even-odd fill). */
export function cutoutPath(view: Size, hole: Rect | null, pad = 6, r = 6): string {
  const outer = `M0 0H${view.width}V${view.height}H0Z`;
  if (!hole) return outer;
  const x = Math.round(hole.x - pad);
  const y = Math.round(hole.y - pad);
  const w = Math.round(hole.width + pad * 2);
  const h = Math.round(hole.height + pad * 2);
  const k = Math.max(0, Math.min(r, w / 2, h / 2));
  return `${outer}M${x + k} ${y}H${x + w - k}Q${x + w} ${y} ${x + w} ${y + k}V${y + h - k}Q${x + w} ${y + h} ${x + w - k} ${y + h}H${x + k}Q${x} ${y + h} ${x} ${y + h - k}V${y + k}Q${x} ${y} ${x + k} ${y}Z`;
}
