import type * as Widgets from '../dom/widgets';
import type * as Editor from '../editor/editor';
export declare const widgets: (api: string) => Promise<typeof Widgets>;
export declare const editor: (api: string) => Promise<typeof Editor>;
