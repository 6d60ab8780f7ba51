export interface EditorHost {
    ui(): HTMLElement;
    readonly hostEl: HTMLElement;
    emit(event: string, detail: Record<string, unknown>): void;
    guard<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void;
    previewing(): boolean;
    setPreview(on: boolean): void;
    apiOrigin(): string;
}
export declare function mount(host: EditorHost): () => void;
