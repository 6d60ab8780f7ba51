// The lazy chunk for in-app admins (`/sdk/v1/spotlight-editor.<hash>.js`):
// never requested for anyone else.
import * as editor from '../editor/editor';

(window as unknown as { __spotlightEditor?: typeof editor }).__spotlightEditor = editor;
