//! Translatable strings of authored documents, by stable key, for export to
//! translators and import of their work. A tour's strings are keyed by step id
//! (`steps.<id>.title`, `steps.<id>.body`, `steps.<id>.buttons.<n>`), an
//! announcement's by field (`title`, `body`), so reordering steps never moves a
//! translation onto another text. Imported bodies are sanitised as on save.

use crate::content::{Checklist, ChecklistText, Content, ContentText};
use crate::richtext;
use crate::tour::{StepText, Tour, MAX_TITLE};

/// One string: its key, the default text, and the locale's text if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub key: String,
    pub source: String,
    pub target: Option<String>,
}

/// What became of one imported string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Applied after sanitising (unsafe HTML removed).
    Sanitized,
    /// No such string in this document.
    Unknown,
    Invalid(String),
}

pub fn tour_units(t: &Tour, locale: &str) -> Vec<Unit> {
    let texts = t.locales.get(locale);
    let mut out = Vec::new();
    for (i, step) in t.steps.iter().enumerate() {
        let text = texts.and_then(|v| v.get(i));
        let base = format!("steps.{}", step.id);
        if !step.title.is_empty() {
            out.push(Unit {
                key: format!("{base}.title"),
                source: step.title.clone(),
                target: text.and_then(|t| t.title.clone()),
            });
        }
        if !step.body.is_empty() {
            out.push(Unit {
                key: format!("{base}.body"),
                source: step.body.clone(),
                target: text.and_then(|t| t.body.clone()),
            });
        }
        for (n, b) in step.buttons.iter().enumerate() {
            out.push(Unit {
                key: format!("{base}.buttons.{n}"),
                source: b.label().to_owned(),
                target: text.and_then(|t| t.buttons.get(n).cloned()),
            });
        }
    }
    out
}

pub fn content_units(c: &Content, locale: &str) -> Vec<Unit> {
    let text = c.locales.get(locale);
    let mut out = Vec::new();
    if !c.title.is_empty() {
        out.push(Unit {
            key: "title".into(),
            source: c.title.clone(),
            target: text.and_then(|t| t.title.clone()),
        });
    }
    if !c.body.is_empty() {
        out.push(Unit {
            key: "body".into(),
            source: c.body.clone(),
            target: text.and_then(|t| t.body.clone()),
        });
    }
    out
}

pub fn checklist_units(c: &Checklist, locale: &str) -> Vec<Unit> {
    let text = c.locales.get(locale);
    let mut out = vec![Unit {
        key: "title".into(),
        source: c.title.clone(),
        target: text.and_then(|t| t.title.clone()),
    }];
    if !c.description.is_empty() {
        out.push(Unit {
            key: "description".into(),
            source: c.description.clone(),
            target: text.and_then(|t| t.description.clone()),
        });
    }
    for item in &c.items {
        let t = text.and_then(|t| t.items.get(&item.id));
        out.push(Unit {
            key: format!("items.{}.title", item.id),
            source: item.title.clone(),
            target: t.and_then(|t| t.title.clone()),
        });
        if !item.description.is_empty() {
            out.push(Unit {
                key: format!("items.{}.description", item.id),
                source: item.description.clone(),
                target: t.and_then(|t| t.description.clone()),
            });
        }
    }
    out
}

/// Sets one string of a checklist's `locale` variant (plain text, no HTML).
pub fn apply_checklist(c: &mut Checklist, locale: &str, key: &str, text: &str) -> Outcome {
    let parts: Vec<&str> = key.split('.').collect();
    let (item, field) = match parts.as_slice() {
        [field @ ("title" | "description")] => (None, *field),
        ["items", id, field @ ("title" | "description")] => {
            if !c.items.iter().any(|i| i.id == *id) {
                return Outcome::Unknown;
            }
            (Some((*id).to_owned()), *field)
        }
        _ => return Outcome::Unknown,
    };
    let max = if field == "title" { MAX_TITLE } else { 1000 };
    let checked = check_line_max(text, max).map(|t| (t, false));
    let entry: &mut ChecklistText = c.locales.entry(locale.to_owned()).or_default();
    outcome(checked, |s| {
        let slot = match &item {
            None if field == "title" => &mut entry.title,
            None => &mut entry.description,
            Some(id) => {
                let it = entry.items.entry(id.clone()).or_default();
                if field == "title" {
                    &mut it.title
                } else {
                    &mut it.description
                }
            }
        };
        *slot = Some(s);
    })
}

/// A title or label as it may be stored; an error says why not.
fn check_line(text: &str) -> Result<String, String> {
    check_line_max(text, MAX_TITLE)
}

fn check_line_max(text: &str, max: usize) -> Result<String, String> {
    if text.trim().is_empty() || text.chars().count() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// A body as it is stored: sanitised, bounded.
fn check_body(text: &str) -> Result<(String, bool), String> {
    if text.len() > richtext::MAX_BODY_BYTES {
        return Err(format!("at most {} bytes", richtext::MAX_BODY_BYTES));
    }
    if text.contains('\0') {
        return Err("must not contain NUL".into());
    }
    let clean = richtext::sanitize(text);
    let changed = clean != text;
    Ok((clean, changed))
}

fn line_or_body(is_body: bool, text: &str) -> Result<(String, bool), String> {
    if is_body {
        check_body(text)
    } else {
        check_line(text).map(|t| (t, false))
    }
}

fn outcome(r: Result<(String, bool), String>, mut store: impl FnMut(String)) -> Outcome {
    match r {
        Ok((text, sanitized)) => {
            store(text);
            if sanitized {
                Outcome::Sanitized
            } else {
                Outcome::Applied
            }
        }
        Err(e) => Outcome::Invalid(e),
    }
}

/// Sets one string of a tour's `locale` variant.
pub fn apply_tour(t: &mut Tour, locale: &str, key: &str, text: &str) -> Outcome {
    let mut parts = key.split('.');
    let (Some("steps"), Some(step_id), Some(field)) = (parts.next(), parts.next(), parts.next())
    else {
        return Outcome::Unknown;
    };
    let button: Option<usize> = match (field, parts.next(), parts.next()) {
        ("buttons", Some(n), None) => match n.parse() {
            Ok(n) => Some(n),
            Err(_) => return Outcome::Unknown,
        },
        ("title" | "body", None, None) => None,
        _ => return Outcome::Unknown,
    };
    let Some(i) = t.steps.iter().position(|s| s.id == step_id) else {
        return Outcome::Unknown;
    };
    let count = t.steps.len();
    let step = &t.steps[i];
    if button.is_some_and(|n| n >= step.buttons.len()) {
        return Outcome::Unknown;
    }
    let labels: Vec<String> = step.buttons.iter().map(|b| b.label().to_owned()).collect();
    let texts = t.locales.entry(locale.to_owned()).or_default();
    texts.resize_with(count, StepText::default);
    let entry = &mut texts[i];
    match button {
        Some(n) => outcome(line_or_body(false, text), |s| {
            // Earlier buttons without a translation keep their default label.
            while entry.buttons.len() <= n {
                entry.buttons.push(labels[entry.buttons.len()].clone());
            }
            entry.buttons[n] = s;
        }),
        None if field == "title" => outcome(line_or_body(false, text), |s| entry.title = Some(s)),
        None => outcome(line_or_body(true, text), |s| entry.body = Some(s)),
    }
}

/// Sets one string of an announcement's `locale` variant.
pub fn apply_content(c: &mut Content, locale: &str, key: &str, text: &str) -> Outcome {
    let is_body = match key {
        "title" => false,
        "body" => true,
        _ => return Outcome::Unknown,
    };
    let entry: &mut ContentText = c.locales.entry(locale.to_owned()).or_default();
    outcome(line_or_body(is_body, text), |s| {
        if is_body {
            entry.body = Some(s);
        } else {
            entry.title = Some(s);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checklist_items_are_keyed_by_id() {
        let mut c: Checklist = serde_json::from_value(json!({"name": "C", "title": "Start", "items": [
            {"id": "invite", "title": "Invite", "description": "Bring a teammate", "completed_by": {"type": "event", "event": "i"}},
            {"id": "sso", "title": "SSO", "completed_by": {"type": "event", "event": "s"}}
        ]}))
        .unwrap();
        crate::object::Document::validate(&mut c).unwrap();
        let keys: Vec<String> = checklist_units(&c, "fr")
            .into_iter()
            .map(|u| u.key)
            .collect();
        assert_eq!(
            keys,
            [
                "title",
                "items.invite.title",
                "items.invite.description",
                "items.sso.title"
            ]
        );
        assert_eq!(
            apply_checklist(&mut c, "fr", "items.sso.title", "SSO (fr)"),
            Outcome::Applied
        );
        assert_eq!(
            apply_checklist(&mut c, "fr", "title", "Démarrer"),
            Outcome::Applied
        );
        assert_eq!(
            apply_checklist(&mut c, "fr", "items.nope.title", "x"),
            Outcome::Unknown
        );
        assert!(matches!(
            apply_checklist(&mut c, "fr", "description", &"x".repeat(1001)),
            Outcome::Invalid(_)
        ));
        crate::object::Document::validate(&mut c).unwrap();
        let fr = crate::delivery::localize_checklist(&c, Some("fr-CA"));
        assert_eq!(fr.title, "Démarrer");
        assert_eq!(fr.items[1].title, "SSO (fr)");
        assert_eq!(
            fr.items[0].title, "Invite",
            "untranslated items keep their text"
        );
        assert!(fr.locales.is_empty());
    }

    fn tour() -> Tour {
        let mut t: Tour = serde_json::from_value(json!({"name": "T", "steps": [
            {"id": "hello", "kind": "modal", "title": "Hello", "body": "<p>Welcome</p>",
             "buttons": [{"action": "back", "label": "Back"}, {"action": "next", "label": "Next"}]},
            {"id": "bye", "kind": "modal", "title": "Bye"}
        ]}))
        .unwrap();
        t.validate().unwrap();
        t
    }

    #[test]
    fn tour_strings_are_keyed_by_step_id_and_survive_a_reorder() {
        let mut t = tour();
        let keys: Vec<String> = tour_units(&t, "fr").into_iter().map(|u| u.key).collect();
        assert_eq!(
            keys,
            [
                "steps.hello.title",
                "steps.hello.body",
                "steps.hello.buttons.0",
                "steps.hello.buttons.1",
                "steps.bye.title"
            ]
        );
        t.steps.reverse();
        assert_eq!(
            apply_tour(&mut t, "fr", "steps.hello.title", "Bonjour"),
            Outcome::Applied
        );
        assert_eq!(
            apply_tour(&mut t, "fr", "steps.hello.buttons.1", "Suivant"),
            Outcome::Applied
        );
        assert_eq!(
            apply_tour(
                &mut t,
                "fr",
                "steps.hello.body",
                "<p>Bienvenue</p><script>x()</script>"
            ),
            Outcome::Sanitized
        );
        assert_eq!(
            apply_tour(&mut t, "fr", "steps.nope.title", "x"),
            Outcome::Unknown
        );
        assert_eq!(
            apply_tour(&mut t, "fr", "steps.hello.buttons.2", "x"),
            Outcome::Unknown
        );
        assert_eq!(
            apply_tour(&mut t, "fr", "steps.hello.name", "x"),
            Outcome::Unknown
        );
        assert!(matches!(
            apply_tour(&mut t, "fr", "steps.bye.title", " "),
            Outcome::Invalid(_)
        ));
        t.validate().unwrap();
        let fr = &t.locales["fr"];
        assert_eq!(
            fr[1].title.as_deref(),
            Some("Bonjour"),
            "the step moved to index 1"
        );
        assert_eq!(
            fr[1].buttons,
            ["Back", "Suivant"],
            "the earlier button keeps its label"
        );
        assert_eq!(fr[1].body.as_deref(), Some("<p>Bienvenue</p>"));
        assert_eq!(fr[0], StepText::default());
        let units = tour_units(&t, "fr");
        assert_eq!(
            units
                .iter()
                .find(|u| u.key == "steps.hello.title")
                .unwrap()
                .target
                .as_deref(),
            Some("Bonjour")
        );
    }
}
