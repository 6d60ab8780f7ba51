//! The authored tour document: steps (tooltip, modal, hotspot, highlight,
//! survey), targets as fingerprints, buttons, audience, page rules, trigger,
//! frequency, priority, schedule, theme and locale variants.
//!
//! Deserialisation refuses unknown fields; [`Tour::validate`] then collects every
//! problem with its field path (`steps[2].target.selectors: must not be empty`)
//! and sanitises rich text, so what is stored is always safe to render.

use crate::audience;
use crate::page::PageRule;
use crate::richtext;
use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_STEPS: usize = 50;
pub const MAX_TITLE: usize = 200;
pub const MAX_SELECTORS: usize = 10;
pub const MAX_SELECTOR_BYTES: usize = 500;
pub const MAX_BUTTONS: usize = 4;
pub const MAX_PAGES: usize = 20;
pub const MAX_LOCALES: usize = 50;
pub const MAX_WAIT_MS: u32 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Tooltip,
    Modal,
    Hotspot,
    Highlight,
    Survey,
}

impl StepKind {
    /// Kinds drawn on an element need a target.
    pub fn needs_target(self) -> bool {
        matches!(
            self,
            StepKind::Tooltip | StepKind::Hotspot | StepKind::Highlight
        )
    }
}

/// An element fingerprint: candidate selectors recorded when it was picked
/// (id, data-testid/data-*, role, name, placeholder, structural path), scored
/// at run time, plus optional visible text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub selectors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Selector of a same-origin iframe to look in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    #[default]
    Auto,
    Top,
    TopStart,
    TopEnd,
    Bottom,
    BottomStart,
    BottomEnd,
    Left,
    LeftStart,
    LeftEnd,
    Right,
    RightStart,
    RightEnd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Button {
    Next {
        label: String,
    },
    Back {
        label: String,
    },
    Skip {
        label: String,
    },
    Done {
        label: String,
    },
    Link {
        label: String,
        url: String,
    },
    /// Jump to a step (0-based index).
    Goto {
        label: String,
        step: usize,
    },
}

impl Button {
    pub fn set_label(&mut self, new: String) {
        match self {
            Button::Next { label }
            | Button::Back { label }
            | Button::Skip { label }
            | Button::Done { label }
            | Button::Link { label, .. }
            | Button::Goto { label, .. } => *label = new,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Button::Next { label }
            | Button::Back { label }
            | Button::Skip { label }
            | Button::Done { label }
            | Button::Link { label, .. }
            | Button::Goto { label, .. } => label,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdvanceOn {
    #[default]
    Button,
    Click,
    Input,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    Nps,
    Stars,
    Scale,
    SingleChoice,
    MultipleChoice,
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    #[serde(rename = "type")]
    pub kind: SurveyKind,
    pub question: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Numeric scale bounds (`scale` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i32>,
}

fn yes() -> bool {
    true
}

fn default_wait() -> u32 {
    5_000
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable id for analytics across edits; assigned when missing.
    #[serde(default)]
    pub id: String,
    pub kind: StepKind,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(default)]
    pub placement: Placement,
    #[serde(default)]
    pub buttons: Vec<Button>,
    #[serde(default)]
    pub advance_on: AdvanceOn,
    #[serde(default = "yes")]
    pub backdrop: bool,
    /// Whether the user may interact with the target while the step shows.
    #[serde(default)]
    pub interactive: bool,
    /// For multi-page tours: the page (path) this step runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default = "default_wait")]
    pub wait_for_target_ms: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<Survey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    #[default]
    Page,
    Click {
        target: Target,
    },
    Event {
        event: String,
    },
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Frequency {
    #[default]
    Once,
    /// Once for the whole account: shown to the first of its members only
    /// (for a user with no account, once).
    OncePerAccount,
    UntilCompleted,
    EverySession,
    EveryNDays {
        days: u32,
    },
}

/// Times as RFC 3339 strings; either end may be open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// Per-locale text for one step; `None` keeps the default text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Button labels, in the order of the step's buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tour {
    pub name: String,
    pub steps: Vec<Step>,
    /// An inline audience rule (see [`crate::audience`]); empty: everyone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    /// A saved audience, combined with `audience` by `and`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_id: Option<String>,
    /// Empty: every page.
    #[serde(default)]
    pub pages: Vec<PageRule>,
    #[serde(default)]
    pub trigger: Trigger,
    #[serde(default)]
    pub frequency: Frequency,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_id: Option<String>,
    /// Locale (`fr`, `pt-BR`) → one entry per step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub locales: BTreeMap<String, Vec<StepText>>,
    /// Run as an A/B test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<crate::experiment::Experiment>,
}

/// The targeting fields tours, content, checklists and launchers share.
pub struct Targeting<'a> {
    pub audience: &'a str,
    pub pages: &'a [PageRule],
    pub trigger: Option<&'a Trigger>,
    pub frequency: &'a Frequency,
    pub priority: i32,
    pub schedule: &'a Schedule,
}

pub fn check_targeting(errors: &mut ValidationErrors, t: Targeting<'_>) {
    if !t.audience.trim().is_empty() {
        if let Err(e) = audience::parse(t.audience) {
            errors.add("audience", e.to_string());
        }
    }
    if t.pages.len() > MAX_PAGES {
        errors.add("pages", format!("at most {MAX_PAGES} page rules"));
    }
    for (i, p) in t.pages.iter().enumerate() {
        if let Err(e) = p.compile() {
            errors.add(format!("pages[{i}]"), e);
        }
    }
    match t.trigger {
        Some(Trigger::Click { target }) => check_target(errors, "trigger.target", target),
        Some(Trigger::Event { event }) => check_text(errors, "trigger.event", event, 100, true),
        _ => {}
    }
    if let Frequency::EveryNDays { days } = t.frequency {
        if !(1..=365).contains(days) {
            errors.add("frequency.days", "must be between 1 and 365");
        }
    }
    if !(-1000..=1000).contains(&t.priority) {
        errors.add("priority", "must be between -1000 and 1000");
    }
    let parse = crate::Timestamp::parse_rfc3339;
    for (field, value) in [
        ("schedule.start", &t.schedule.start),
        ("schedule.end", &t.schedule.end),
    ] {
        if value.as_deref().is_some_and(|v| parse(v).is_none()) {
            errors.add(field, "must be an RFC 3339 time like 2026-01-31T09:00:00Z");
        }
    }
    if let (Some(a), Some(b)) = (
        t.schedule.start.as_deref().and_then(parse),
        t.schedule.end.as_deref().and_then(parse),
    ) {
        if a >= b {
            errors.add("schedule.end", "must be after schedule.start");
        }
    }
}

/// Rich text: bounded, then sanitised in place.
pub fn check_body(errors: &mut ValidationErrors, path: &str, body: &mut String) {
    if body.len() > richtext::MAX_BODY_BYTES {
        errors.add(
            path,
            format!("must be at most {} bytes", richtext::MAX_BODY_BYTES),
        );
    } else {
        *body = richtext::sanitize(body);
    }
}

pub fn check_url(errors: &mut ValidationErrors, path: &str, url: &str) {
    if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
        || url.len() > 2000
    {
        errors.add(path, "must be an http(s) URL or a path starting with /");
    }
}

/// Object names: 1 to 200 characters.
pub fn check_name(errors: &mut ValidationErrors, name: &str) {
    check_text(errors, "name", name, MAX_TITLE, true);
}

pub fn check_text(
    errors: &mut ValidationErrors,
    path: &str,
    text: &str,
    max: usize,
    required: bool,
) {
    if required && text.trim().is_empty() {
        errors.add(path, "must not be empty");
    } else if text.chars().count() > max {
        errors.add(path, format!("must be at most {max} characters"));
    }
}

pub fn check_target(errors: &mut ValidationErrors, path: &str, t: &Target) {
    if t.selectors.is_empty() {
        errors.add(format!("{path}.selectors"), "must not be empty");
    }
    if t.selectors.len() > MAX_SELECTORS {
        errors.add(
            format!("{path}.selectors"),
            format!("at most {MAX_SELECTORS} selectors"),
        );
    }
    for (i, s) in t.selectors.iter().enumerate() {
        if s.trim().is_empty() || s.len() > MAX_SELECTOR_BYTES {
            errors.add(
                format!("{path}.selectors[{i}]"),
                format!("must be 1 to {MAX_SELECTOR_BYTES} bytes"),
            );
        }
    }
    if let Some(text) = &t.text {
        check_text(errors, &format!("{path}.text"), text, MAX_TITLE, false);
    }
    if let Some(frame) = &t.frame {
        if frame.trim().is_empty() || frame.len() > MAX_SELECTOR_BYTES {
            errors.add(
                format!("{path}.frame"),
                format!("must be 1 to {MAX_SELECTOR_BYTES} bytes"),
            );
        }
    }
}

/// References to other objects (`audience_id`, `theme_id`, …) are object ids.
pub fn check_ref(errors: &mut ValidationErrors, path: &str, id: Option<&str>) {
    if id.is_some_and(|id| id.parse::<uuid::Uuid>().is_err()) {
        errors.add(path, "must be an object id");
    }
}

/// Is `locale` a BCP 47-looking tag (`en`, `pt-BR`, `zh-Hant-TW`)?
pub fn valid_locale(locale: &str) -> bool {
    let mut parts = locale.split('-');
    let lang_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    lang_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && locale.len() <= 35
}

impl Step {
    fn validate(
        &mut self,
        errors: &mut ValidationErrors,
        path: &str,
        step_count: usize,
        index: usize,
    ) {
        if self.id.is_empty() {
            self.id = format!("step-{}", index + 1);
        } else if self.id.len() > 64
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            errors.add(
                format!("{path}.id"),
                "must be 1 to 64 characters of a-z, 0-9, - and _",
            );
        }
        check_text(
            errors,
            &format!("{path}.title"),
            &self.title,
            MAX_TITLE,
            false,
        );
        if self.body.len() > richtext::MAX_BODY_BYTES {
            errors.add(
                format!("{path}.body"),
                format!("must be at most {} bytes", richtext::MAX_BODY_BYTES),
            );
        } else {
            self.body = richtext::sanitize(&self.body);
        }
        match (&self.target, self.kind.needs_target()) {
            (None, true) => {
                errors.add(format!("{path}.target"), "this kind of step needs a target")
            }
            (Some(t), _) => check_target(errors, &format!("{path}.target"), t),
            (None, false) => {}
        }
        if self.advance_on != AdvanceOn::Button && self.target.is_none() {
            errors.add(
                format!("{path}.advance_on"),
                "advancing on click or input needs a target",
            );
        }
        if self.buttons.len() > MAX_BUTTONS {
            errors.add(
                format!("{path}.buttons"),
                format!("at most {MAX_BUTTONS} buttons"),
            );
        }
        for (i, b) in self.buttons.iter().enumerate() {
            let bp = format!("{path}.buttons[{i}]");
            check_text(errors, &format!("{bp}.label"), b.label(), 50, true);
            match b {
                Button::Link { url, .. }
                    if !(url.starts_with("https://")
                        || url.starts_with("http://")
                        || url.starts_with('/')) =>
                {
                    errors.add(
                        format!("{bp}.url"),
                        "must be an http(s) URL or a path starting with /",
                    );
                }
                Button::Goto { step, .. } if *step >= step_count => {
                    errors.add(
                        format!("{bp}.step"),
                        format!("there are only {step_count} steps"),
                    );
                }
                _ => {}
            }
        }
        if let Some(url) = &self.page_url {
            if !url.starts_with('/') || url.len() > 2000 {
                errors.add(format!("{path}.page_url"), "must be a path starting with /");
            }
        }
        if self.wait_for_target_ms > MAX_WAIT_MS {
            errors.add(
                format!("{path}.wait_for_target_ms"),
                format!("must be at most {MAX_WAIT_MS}"),
            );
        }
        match (&self.survey, self.kind) {
            (None, StepKind::Survey) => {
                errors.add(format!("{path}.survey"), "a survey step needs a survey")
            }
            (Some(_), k) if k != StepKind::Survey => {
                errors.add(format!("{path}.survey"), "only survey steps have a survey")
            }
            (Some(s), _) => {
                let sp = format!("{path}.survey");
                check_text(errors, &format!("{sp}.question"), &s.question, 500, true);
                let choice = matches!(
                    s.kind,
                    SurveyKind::SingleChoice | SurveyKind::MultipleChoice
                );
                if choice && !(2..=20).contains(&s.choices.len()) {
                    errors.add(
                        format!("{sp}.choices"),
                        "choice questions need 2 to 20 choices",
                    );
                }
                if !choice && !s.choices.is_empty() {
                    errors.add(
                        format!("{sp}.choices"),
                        "only choice questions have choices",
                    );
                }
                for (i, c) in s.choices.iter().enumerate() {
                    check_text(errors, &format!("{sp}.choices[{i}]"), c, 200, true);
                }
                if s.kind == SurveyKind::Scale {
                    match (s.min, s.max) {
                        (Some(lo), Some(hi)) if lo < hi && hi - lo <= 100 => {}
                        _ => errors.add(
                            format!("{sp}.max"),
                            "a scale needs min < max, at most 100 apart",
                        ),
                    }
                } else if s.min.is_some() || s.max.is_some() {
                    errors.add(format!("{sp}.min"), "only scale questions have min and max");
                }
            }
            (None, _) => {}
        }
    }
}

impl Tour {
    /// Checks everything, sanitises bodies and assigns missing step ids.
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_name(&mut errors, &self.name);
        check_ref(&mut errors, "audience_id", self.audience_id.as_deref());
        check_ref(&mut errors, "theme_id", self.theme_id.as_deref());
        if let Some(x) = &self.experiment {
            x.check(&mut errors, "experiment");
        }
        if self.steps.is_empty() {
            errors.add("steps", "a tour needs at least one step");
        }
        if self.steps.len() > MAX_STEPS {
            errors.add("steps", format!("at most {MAX_STEPS} steps"));
        }
        let count = self.steps.len();
        for (i, step) in self.steps.iter_mut().enumerate() {
            step.validate(&mut errors, &format!("steps[{i}]"), count, i);
        }
        let mut ids: Vec<&str> = self.steps.iter().map(|s| s.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            errors.add("steps", "step ids must be unique");
        }
        check_targeting(
            &mut errors,
            Targeting {
                audience: &self.audience,
                pages: &self.pages,
                trigger: Some(&self.trigger),
                frequency: &self.frequency,
                priority: self.priority,
                schedule: &self.schedule,
            },
        );
        if self.locales.len() > MAX_LOCALES {
            errors.add("locales", format!("at most {MAX_LOCALES} locales"));
        }
        for (locale, texts) in self.locales.iter_mut() {
            let lp = format!("locales.{locale}");
            if !valid_locale(locale) {
                errors.add(&lp, "must be a locale tag like fr or pt-BR");
            }
            if texts.len() != count {
                errors.add(&lp, format!("must have one entry per step ({count})"));
            }
            for (i, t) in texts.iter_mut().enumerate() {
                if let Some(title) = &t.title {
                    check_text(
                        &mut errors,
                        &format!("{lp}[{i}].title"),
                        title,
                        MAX_TITLE,
                        false,
                    );
                }
                if let Some(body) = &mut t.body {
                    if body.len() > richtext::MAX_BODY_BYTES {
                        errors.add(format!("{lp}[{i}].body"), "too long");
                    } else {
                        *body = richtext::sanitize(body);
                    }
                }
                let buttons = self.steps.get(i).map_or(0, |s| s.buttons.len());
                if t.buttons.len() > buttons {
                    errors.add(
                        format!("{lp}[{i}].buttons"),
                        format!("the step has {buttons} buttons"),
                    );
                }
            }
        }
        errors.into_result()
    }
}

crate::object::document!(Tour, crate::object::ObjectKind::Tour);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tour(v: serde_json::Value) -> Tour {
        serde_json::from_value(v).unwrap()
    }

    fn paths(t: &mut Tour) -> Vec<String> {
        t.validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    #[test]
    fn a_full_tour_validates_and_is_sanitised() {
        let mut t = tour(json!({
            "name": "Welcome",
            "steps": [
                {"kind": "modal", "title": "Hi", "body": "<p>Welcome<script>alert(1)</script></p>",
                 "buttons": [{"action": "next", "label": "Start"}]},
                {"kind": "tooltip", "target": {"selectors": ["#export", "[data-testid=export]"], "text": "Export"},
                 "placement": "bottom-start", "advance_on": "click"},
                {"kind": "survey", "survey": {"type": "nps", "question": "How likely…?"}},
                {"kind": "survey", "survey": {"type": "single_choice", "question": "Role?", "choices": ["Dev", "PM"]},
                 "buttons": [{"action": "goto", "label": "Again", "step": 0}]}
            ],
            "audience": "plan = \"pro\"",
            "pages": [{"match": "glob", "pattern": "/app/*"}],
            "trigger": {"type": "event", "event": "signed_up"},
            "frequency": {"type": "every_n_days", "days": 7},
            "schedule": {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"},
            "locales": {"fr": [{"title": "Salut"}, {}, {}, {}]}
        }));
        t.validate().unwrap();
        assert_eq!(t.steps[0].body, "<p>Welcome</p>");
        assert_eq!(t.steps[1].id, "step-2");
        assert!(t.steps[1].backdrop);
    }

    #[test]
    fn every_problem_is_listed_with_its_path() {
        let mut t = tour(json!({
            "name": "",
            "steps": [
                {"kind": "tooltip"},
                {"kind": "highlight", "target": {"selectors": []}},
                {"kind": "survey"},
                {"kind": "modal", "advance_on": "click", "wait_for_target_ms": 999999,
                 "buttons": [{"action": "goto", "label": "x", "step": 9}, {"action": "link", "label": "x", "url": "javascript:alert(1)"}]},
                {"kind": "survey", "survey": {"type": "scale", "question": "?", "min": 5, "max": 1}}
            ],
            "audience": "plan ==",
            "pages": [{"match": "regex", "pattern": "("}],
            "frequency": {"type": "every_n_days", "days": 0},
            "priority": 5000,
            "schedule": {"start": "tomorrow"},
            "locales": {"French": [{}]}
        }));
        let p = paths(&mut t);
        for expected in [
            "name",
            "steps[0].target",
            "steps[1].target.selectors",
            "steps[2].survey",
            "steps[3].advance_on",
            "steps[3].buttons[0].step",
            "steps[3].buttons[1].url",
            "steps[3].wait_for_target_ms",
            "steps[4].survey.max",
            "audience",
            "pages[0]",
            "frequency.days",
            "priority",
            "schedule.start",
            "locales.French",
        ] {
            assert!(
                p.iter().any(|x| x == expected),
                "missing {expected} in {p:?}"
            );
        }
    }

    #[test]
    fn references_and_frames_are_checked() {
        let mut t = tour(json!({
            "name": "x", "audience_id": "pros", "theme_id": uuid::Uuid::now_v7().to_string(),
            "steps": [{"kind": "tooltip", "target": {"selectors": ["#a"], "frame": "x".repeat(600)}}]
        }));
        assert_eq!(paths(&mut t), ["audience_id", "steps[0].target.frame"]);
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        let bad = [
            json!({"name": "x", "steps": [{"kind": "popup"}]}),
            json!({"name": "x", "steps": [], "colour": "red"}),
            json!({"name": "x", "steps": [{"kind": "modal", "colour": 1}]}),
            json!({"name": "x", "steps": [{"kind": "modal", "buttons": [{"action": "fly", "label": "x"}]}]}),
        ];
        for v in bad {
            assert!(serde_json::from_value::<Tour>(v.clone()).is_err(), "{v}");
        }
    }

    #[test]
    fn locales() {
        for ok in ["en", "fr", "pt-BR", "zh-Hant-TW"] {
            assert!(valid_locale(ok), "{ok}");
        }
        for bad in ["", "E", "english", "en_US", "en-", "fr--x"] {
            assert!(!valid_locale(bad), "{bad}");
        }
    }
}
