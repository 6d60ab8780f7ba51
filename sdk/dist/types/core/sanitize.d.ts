export declare const MAX_BODY: number;
/** A fragment holding the allowed part of `html`. */
export declare function sanitize(html: string, doc?: Document): DocumentFragment;
