// The lazy chunk for announcements, checklists and launchers
// (`/sdk/v1/spotlight-widgets.<hash>.js`): loaded only for users whose config
// has some, it hands its renderers to the core through one global it clears.
import * as widgets from '../dom/widgets';

(window as unknown as { __spotlightWidgets?: typeof widgets }).__spotlightWidgets = widgets;
