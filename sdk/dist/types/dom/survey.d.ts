import type { Survey } from '../types';
export type Answer = {
    score: number;
} | {
    choices: string[];
} | {
    text: string;
};
export declare function surveyControl(s: Survey, answer: (a: Answer) => void): HTMLElement;
