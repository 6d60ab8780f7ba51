//! Announcements (banner, modal, slideout), onboarding checklists and launchers:
//! documents that share the tour's targeting model (audience, pages, frequency,
//! priority, schedule, theme).

#[cfg(test)]
use crate::object::Document;
use crate::object::{document, ObjectKind};
use crate::page::PageRule;
use crate::tour::{
    check_body, check_name, check_ref, check_target, check_targeting, check_text, check_url,
    valid_locale, Frequency, Schedule, Target, Targeting, Trigger,
};
use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Banner,
    Modal,
    Slideout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    Top,
    #[default]
    Bottom,
    Center,
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

/// A call to action on an announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Cta {
    Link { label: String, url: String },
    Dismiss { label: String },
    StartTour { label: String, tour_id: String },
}

impl Cta {
    fn label(&self) -> &str {
        match self {
            Cta::Link { label, .. } | Cta::Dismiss { label } | Cta::StartTour { label, .. } => {
                label
            }
        }
    }
}

fn check_ctas(e: &mut ValidationErrors, path: &str, ctas: &[Cta]) {
    if ctas.len() > 3 {
        e.add(path, "at most 3 buttons");
    }
    for (i, c) in ctas.iter().enumerate() {
        let p = format!("{path}[{i}]");
        check_text(e, &format!("{p}.label"), c.label(), 50, true);
        match c {
            Cta::Link { url, .. } => check_url(e, &format!("{p}.url"), url),
            Cta::StartTour { tour_id, .. } if tour_id.parse::<uuid::Uuid>().is_err() => {
                e.add(format!("{p}.tour_id"), "must be a tour id")
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn check_locales(e: &mut ValidationErrors, locales: &mut BTreeMap<String, ContentText>) {
    if locales.len() > 50 {
        e.add("locales", "at most 50 locales");
    }
    for (locale, text) in locales.iter_mut() {
        let lp = format!("locales.{locale}");
        if !valid_locale(locale) {
            e.add(&lp, "must be a locale tag like fr or pt-BR");
        }
        if let Some(t) = &text.title {
            check_text(e, &format!("{lp}.title"), t, 200, false);
        }
        if let Some(b) = &mut text.body {
            check_body(e, &format!("{lp}.body"), b);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Content {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ContentKind,
    #[serde(default)]
    pub position: Position,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub buttons: Vec<Cta>,
    #[serde(default = "yes")]
    pub dismissible: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_id: Option<String>,
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
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub locales: BTreeMap<String, ContentText>,
    /// Run as an A/B test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<crate::experiment::Experiment>,
}

document!(Content, ObjectKind::Content);

impl Content {
    /// Checks every field (see [`Document::validate`]).
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        check_name(&mut e, &self.name);
        check_ref(&mut e, "audience_id", self.audience_id.as_deref());
        check_ref(&mut e, "theme_id", self.theme_id.as_deref());
        check_text(&mut e, "title", &self.title, 200, false);
        check_body(&mut e, "body", &mut self.body);
        if self.title.trim().is_empty() && self.body.trim().is_empty() {
            e.add("body", "an announcement needs a title or a body");
        }
        let allowed: &[Position] = match self.kind {
            ContentKind::Banner => &[Position::Top, Position::Bottom],
            ContentKind::Modal => &[Position::Center, Position::Bottom],
            ContentKind::Slideout => &[
                Position::TopLeft,
                Position::TopRight,
                Position::BottomLeft,
                Position::BottomRight,
                Position::Bottom,
            ],
        };
        if !allowed.contains(&self.position) {
            e.add(
                "position",
                "this position does not fit this type of announcement",
            );
        }
        check_ctas(&mut e, "buttons", &self.buttons);
        check_targeting(
            &mut e,
            Targeting {
                audience: &self.audience,
                pages: &self.pages,
                trigger: Some(&self.trigger),
                frequency: &self.frequency,
                priority: self.priority,
                schedule: &self.schedule,
            },
        );
        check_locales(&mut e, &mut self.locales);
        if let Some(x) = &self.experiment {
            x.check(&mut e, "experiment");
        }
        e.into_result()
    }
}

/// How a checklist item gets ticked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Completion {
    /// The user tracks this event.
    Event { event: String },
    /// The user completes this tour.
    Tour { tour_id: String },
    /// The user clicks this element.
    Click { target: Target },
}

/// What clicking the item does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ItemAction {
    Tour { tour_id: String },
    Link { url: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    #[serde(default)]
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub completed_by: Completion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ItemAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub name: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub items: Vec<ChecklistItem>,
    #[serde(default = "yes")]
    pub dismissible: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_id: Option<String>,
    #[serde(default)]
    pub pages: Vec<PageRule>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_id: Option<String>,
    /// Per-locale texts; what a locale leaves out keeps the default text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub locales: BTreeMap<String, ChecklistText>,
}

/// A checklist's texts in one locale; items by their id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub items: BTreeMap<String, ItemText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn check_id_ref(e: &mut ValidationErrors, path: &str, id: &str) {
    if id.parse::<uuid::Uuid>().is_err() {
        e.add(path, "must be an object id");
    }
}

document!(Checklist, ObjectKind::Checklist);

impl Checklist {
    /// Checks every field (see [`Document::validate`]).
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        check_name(&mut e, &self.name);
        check_ref(&mut e, "audience_id", self.audience_id.as_deref());
        check_ref(&mut e, "theme_id", self.theme_id.as_deref());
        check_text(&mut e, "title", &self.title, 200, true);
        check_text(&mut e, "description", &self.description, 1000, false);
        if !(1..=30).contains(&self.items.len()) {
            e.add("items", "a checklist has 1 to 30 items");
        }
        for (i, item) in self.items.iter_mut().enumerate() {
            let p = format!("items[{i}]");
            if item.id.is_empty() {
                item.id = format!("item-{}", i + 1);
            } else if item.id.len() > 64
                || !item
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                e.add(
                    format!("{p}.id"),
                    "must be 1 to 64 characters of a-z, 0-9, - and _",
                );
            }
            check_text(&mut e, &format!("{p}.title"), &item.title, 200, true);
            check_text(
                &mut e,
                &format!("{p}.description"),
                &item.description,
                1000,
                false,
            );
            match &item.completed_by {
                Completion::Event { event } => {
                    check_text(&mut e, &format!("{p}.completed_by.event"), event, 100, true)
                }
                Completion::Tour { tour_id } => {
                    check_id_ref(&mut e, &format!("{p}.completed_by.tour_id"), tour_id)
                }
                Completion::Click { target } => {
                    check_target(&mut e, &format!("{p}.completed_by.target"), target)
                }
            }
            match &item.action {
                Some(ItemAction::Tour { tour_id }) => {
                    check_id_ref(&mut e, &format!("{p}.action.tour_id"), tour_id)
                }
                Some(ItemAction::Link { url }) => {
                    check_url(&mut e, &format!("{p}.action.url"), url)
                }
                None => {}
            }
        }
        let mut ids: Vec<&str> = self.items.iter().map(|i| i.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            e.add("items", "item ids must be unique");
        }
        if self.locales.len() > 50 {
            e.add("locales", "at most 50 locales");
        }
        for (locale, text) in &self.locales {
            let lp = format!("locales.{locale}");
            if !valid_locale(locale) {
                e.add(&lp, "must be a locale tag like fr or pt-BR");
            }
            if let Some(t) = &text.title {
                check_text(&mut e, &format!("{lp}.title"), t, 200, true);
            }
            if let Some(d) = &text.description {
                check_text(&mut e, &format!("{lp}.description"), d, 1000, false);
            }
            for (id, item) in &text.items {
                let ip = format!("{lp}.items.{id}");
                if !ids.contains(&id.as_str()) {
                    e.add(&ip, "no item has this id");
                }
                if let Some(t) = &item.title {
                    check_text(&mut e, &format!("{ip}.title"), t, 200, true);
                }
                if let Some(d) = &item.description {
                    check_text(&mut e, &format!("{ip}.description"), d, 1000, false);
                }
            }
        }
        check_targeting(
            &mut e,
            Targeting {
                audience: &self.audience,
                pages: &self.pages,
                trigger: None,
                frequency: &Frequency::UntilCompleted,
                priority: self.priority,
                schedule: &self.schedule,
            },
        );
        e.into_result()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LauncherKind {
    /// A floating help button.
    Button,
    /// A pulsing beacon on an element.
    Beacon,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LauncherItem {
    Tour {
        tour_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    Checklist {
        checklist_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    Link {
        label: String,
        url: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Launcher {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: LauncherKind,
    #[serde(default)]
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(default)]
    pub position: Position,
    pub items: Vec<LauncherItem>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_id: Option<String>,
    #[serde(default)]
    pub pages: Vec<PageRule>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_id: Option<String>,
}

document!(Launcher, ObjectKind::Launcher);

impl Launcher {
    /// Checks every field (see [`Document::validate`]).
    pub fn validate(&mut self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        check_name(&mut e, &self.name);
        check_ref(&mut e, "audience_id", self.audience_id.as_deref());
        check_ref(&mut e, "theme_id", self.theme_id.as_deref());
        check_text(&mut e, "label", &self.label, 50, false);
        match (&self.target, self.kind) {
            (None, LauncherKind::Beacon) => e.add("target", "a beacon needs a target"),
            (Some(t), _) => check_target(&mut e, "target", t),
            (None, LauncherKind::Button) => {}
        }
        if !(1..=30).contains(&self.items.len()) {
            e.add("items", "a launcher lists 1 to 30 items");
        }
        for (i, item) in self.items.iter().enumerate() {
            let p = format!("items[{i}]");
            match item {
                LauncherItem::Tour { tour_id, label } => {
                    check_id_ref(&mut e, &format!("{p}.tour_id"), tour_id);
                    if let Some(l) = label {
                        check_text(&mut e, &format!("{p}.label"), l, 100, true);
                    }
                }
                LauncherItem::Checklist {
                    checklist_id,
                    label,
                } => {
                    check_id_ref(&mut e, &format!("{p}.checklist_id"), checklist_id);
                    if let Some(l) = label {
                        check_text(&mut e, &format!("{p}.label"), l, 100, true);
                    }
                }
                LauncherItem::Link { label, url } => {
                    check_text(&mut e, &format!("{p}.label"), label, 100, true);
                    check_url(&mut e, &format!("{p}.url"), url);
                }
            }
        }
        check_targeting(
            &mut e,
            Targeting {
                audience: &self.audience,
                pages: &self.pages,
                trigger: None,
                frequency: &Frequency::EverySession,
                priority: self.priority,
                schedule: &Schedule::default(),
            },
        );
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths<D: Document>(v: serde_json::Value) -> Vec<String> {
        let mut d: D = serde_json::from_value(v).unwrap();
        match d.validate() {
            Ok(()) => vec![],
            Err(e) => e.0.into_iter().map(|f| f.path).collect(),
        }
    }

    #[test]
    fn content() {
        let ok = json!({"name": "Launch", "type": "banner", "position": "top", "title": "New!",
                        "body": "<p>Try <b>exports</b><img src=x onerror=alert(1)></p>",
                        "buttons": [{"action": "link", "label": "Read", "url": "https://x.test"}]});
        assert!(paths::<Content>(ok.clone()).is_empty());
        let mut c: Content = serde_json::from_value(ok).unwrap();
        c.validate().unwrap();
        assert!(!c.body.contains("onerror"));
        let bad = json!({"name": "", "type": "banner", "position": "center",
                         "buttons": [{"action": "start_tour", "label": "", "tour_id": "x"}]});
        assert_eq!(
            paths::<Content>(bad),
            [
                "name",
                "body",
                "position",
                "buttons[0].label",
                "buttons[0].tour_id"
            ]
        );
    }

    #[test]
    fn checklists() {
        let tour = uuid::Uuid::now_v7().to_string();
        let ok = json!({"name": "Onboarding", "title": "Get started", "items": [
            {"title": "Export", "completed_by": {"type": "event", "event": "export"}},
            {"title": "Tour", "completed_by": {"type": "tour", "tour_id": tour}, "action": {"type": "tour", "tour_id": tour}}
        ]});
        assert!(paths::<Checklist>(ok).is_empty());
        let bad = json!({"name": "x", "title": "", "items": [
            {"id": "a", "title": "", "completed_by": {"type": "click", "target": {"selectors": []}}},
            {"id": "a", "title": "t", "completed_by": {"type": "tour", "tour_id": "nope"}, "action": {"type": "link", "url": "javascript:x"}}
        ]});
        assert_eq!(
            paths::<Checklist>(bad),
            [
                "title",
                "items[0].title",
                "items[0].completed_by.target.selectors",
                "items[1].completed_by.tour_id",
                "items[1].action.url",
                "items"
            ]
        );
    }

    #[test]
    fn launchers() {
        let ok = json!({"name": "Help", "type": "button", "label": "Help", "items": [{"type": "link", "label": "Docs", "url": "https://docs.test"}]});
        assert!(paths::<Launcher>(ok).is_empty());
        let bad = json!({"name": "Help", "type": "beacon", "items": [], "theme_id": "blue"});
        assert_eq!(paths::<Launcher>(bad), ["theme_id", "target", "items"]);
    }
}
