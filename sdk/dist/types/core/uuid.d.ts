export declare function uuidv4(): string;
export declare function uuidv7(now?: number): string;
