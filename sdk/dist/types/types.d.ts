export type Placement = 'auto' | 'top' | 'top-start' | 'top-end' | 'bottom' | 'bottom-start' | 'bottom-end' | 'left' | 'left-start' | 'left-end' | 'right' | 'right-start' | 'right-end';
export interface Target {
    selectors: string[];
    text?: string;
    /** Selector of a same-origin iframe to look in. */
    frame?: string;
}
export type Button = {
    action: 'next' | 'back' | 'skip' | 'done';
    label: string;
} | {
    action: 'link';
    label: string;
    url: string;
} | {
    action: 'goto';
    label: string;
    step: number;
};
export type SurveyKind = 'nps' | 'stars' | 'scale' | 'single_choice' | 'multiple_choice' | 'text';
export interface Survey {
    type: SurveyKind;
    question: string;
    choices?: string[];
    min?: number;
    max?: number;
}
export type StepKind = 'tooltip' | 'modal' | 'hotspot' | 'highlight' | 'survey';
export interface Step {
    id: string;
    kind: StepKind;
    title?: string;
    body?: string;
    target?: Target;
    placement?: Placement;
    buttons?: Button[];
    advance_on?: 'button' | 'click' | 'input';
    backdrop?: boolean;
    interactive?: boolean;
    page_url?: string;
    wait_for_target_ms?: number;
    survey?: Survey;
}
export type Trigger = {
    type: 'page';
} | {
    type: 'manual';
} | {
    type: 'click';
    target: Target;
} | {
    type: 'event';
    event: string;
};
export interface Tour {
    name: string;
    steps: Step[];
    trigger?: Trigger;
    theme_id?: string;
}
export type Cta = {
    action: 'link';
    label: string;
    url: string;
} | {
    action: 'dismiss';
    label: string;
} | {
    action: 'start_tour';
    label: string;
    tour_id: string;
};
export type Position = 'top' | 'bottom' | 'center' | 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
export interface Content {
    name: string;
    type: 'banner' | 'modal' | 'slideout';
    position?: Position;
    title?: string;
    body?: string;
    buttons?: Cta[];
    dismissible?: boolean;
    trigger?: Trigger;
    theme_id?: string;
}
export type Completion = {
    type: 'event';
    event: string;
} | {
    type: 'tour';
    tour_id: string;
} | {
    type: 'click';
    target: Target;
};
export interface ChecklistItem {
    id: string;
    title: string;
    description?: string;
    completed_by: Completion;
    action?: {
        type: 'tour';
        tour_id: string;
    } | {
        type: 'link';
        url: string;
    };
}
export interface Checklist {
    name: string;
    title: string;
    description?: string;
    items: ChecklistItem[];
    dismissible?: boolean;
    theme_id?: string;
}
export type LauncherItem = {
    type: 'tour';
    tour_id: string;
    label?: string;
} | {
    type: 'checklist';
    checklist_id: string;
    label?: string;
} | {
    type: 'link';
    label: string;
    url: string;
};
export interface Launcher {
    name: string;
    type: 'button' | 'beacon';
    label?: string;
    target?: Target;
    position?: Position;
    items: LauncherItem[];
    theme_id?: string;
}
export interface ThemeTokens {
    primary?: string;
    background?: string;
    text?: string;
    muted?: string;
    backdrop?: string;
    font_family?: string;
    font_size_px?: number;
    radius_px?: number;
    spacing_px?: number;
    shadow?: string;
    z_index_base?: number;
}
export interface Theme {
    name?: string;
    tokens?: ThemeTokens;
    dark?: ThemeTokens;
}
export interface Delivered<T> {
    id: string;
    version: number;
    arm?: string;
    /** A tour under way that may go on here, not start again. */
    resume_only?: boolean;
    document: T;
}
export interface Progress {
    times_shown: number;
    last_shown_at?: number;
    step_reached?: number;
    items_completed?: string[];
    completed: boolean;
    dismissed: boolean;
}
export interface Config {
    enabled: boolean;
    environment: string;
    user: {
        id: string;
        anonymous: boolean;
        verified: boolean;
        is_admin: boolean;
    };
    preview: boolean;
    tours: Delivered<Tour>[];
    content: Delivered<Content>[];
    checklists: Delivered<Checklist>[];
    launchers: Delivered<Launcher>[];
    themes: Record<string, Theme>;
    default_theme_id?: string;
    progress: Record<string, Progress>;
    experiments: {
        object_id: string;
        arm: string;
        holdout: boolean;
        goal_event: string;
    }[];
    settings: {
        events_url: string;
        refresh_seconds: number;
    };
}
export interface InitOptions {
    /** The environment's publishable key (`pk_…`). */
    key: string;
    /** Where the Spotlight server is; defaults to the origin the script came from. */
    apiUrl?: string;
    userId?: string;
    /** A JWT from the tenant's identity provider, proving `userId`. */
    userToken?: string;
    attributes?: Record<string, unknown>;
    /** The user's active account (B2B: their company), for `account.…` audience rules. */
    account?: {
        id: string;
        attributes?: Record<string, unknown>;
    };
    locale?: string;
    /** Log warnings (unknown step kinds, missing targets, bad themes) to the console. */
    debug?: boolean;
    /** In-app admins: show drafts. */
    preview?: boolean;
    /**
     * Hold the first config request until `identify()` is called (for apps that
     * know the user only after their first render); a number gives up waiting
     * after that many milliseconds and goes on as an anonymous user.
     */
    waitForIdentify?: boolean | number;
    /**
     * How a step button takes the user to another page of a multi-page tour:
     * pass the app's router (`(url) => router.push(url)`); default `location.assign`.
     * The SDK never navigates on its own.
     */
    navigate?: (url: string) => void;
    /**
     * Space the host's own fixed bars take along each edge, in pixels; banners
     * and corner widgets stay clear of it. Also read from the CSS variables
     * `--spotlight-inset-top|right|bottom|left` on `:root`. Fixed host controls
     * at the edges are also found by themselves.
     */
    insets?: Partial<Record<'top' | 'right' | 'bottom' | 'left', number>>;
}
export type SpotlightEvent = 'ready' | 'tour_started' | 'step_viewed' | 'tour_completed' | 'tour_dismissed' | 'step_skipped' | 'content_viewed' | 'survey_answered' | 'error';
