import type { Placement } from '../types';
export interface Rect {
    x: number;
    y: number;
    width: number;
    height: number;
}
export interface Size {
    width: number;
    height: number;
}
export type Side = 'top' | 'bottom' | 'left' | 'right';
export interface Placed {
    x: number;
    y: number;
    side: Side;
    arrow: number;
}
export declare function computePosition(ref: Rect, box: Size, view: Size, placement?: Placement, gap?: number, margin?: number): Placed;
/** A placement as a right-to-left page reads it: sides and alignments swap. */
export declare function mirror(p: Placement | undefined): Placement | undefined;
/** The overlay path: the viewport with one rounded hole (even-odd fill). */
export declare function cutoutPath(view: Size, hole: Rect | null, pad?: number, r?: number): string;
