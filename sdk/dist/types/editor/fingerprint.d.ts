import type { Target } from '../types';
export declare function fingerprint(el: Element): Target;
