//! What one end user sees on one page: a pure function of the published
//! documents, the user (attributes, event counts, progress, session) and the
//! request (URL, locale, time). The server prepares each published document once
//! ([`Prepared`]: compiled page rules, parsed audiences) and evaluates many users
//! against it.

use crate::audience::{self, Expr, Subject};
use crate::content::{Checklist, Content, Launcher};
use crate::page::{CompiledPageRule, PageRule, PageUrl};
use crate::tour::{Frequency, Schedule, Tour};
use serde_json::Value as Json;
use std::collections::HashMap;

const DAY_MS: i64 = crate::Timestamp::DAY_MS;

#[derive(Debug, Clone)]
pub enum Doc {
    Tour(Tour),
    Content(Content),
    Checklist(Checklist),
    Launcher(Launcher),
}

/// A published document, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: String,
    pub version: i64,
    pub kill_switch: bool,
    pub doc: Doc,
    pages: Vec<CompiledPageRule>,
    audience: Option<Expr>,
    audience_id: Option<String>,
    start: Option<i64>,
    end: Option<i64>,
    frequency: Frequency,
    priority: i32,
    /// A tour with steps on pages of their own (it may resume off its pages).
    step_pages: bool,
}

/// A user's history with one tour, announcement or checklist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub times_shown: u32,
    pub last_shown_millis: Option<i64>,
    pub last_session: Option<String>,
    /// For multi-page tours: the step reached (resumes on the next page).
    pub step_reached: Option<usize>,
    /// For checklists: the items done.
    pub items_completed: Vec<String>,
    pub completed: bool,
    pub dismissed: bool,
}

pub struct Viewer<'a> {
    pub attributes: &'a serde_json::Map<String, Json>,
    pub event_counts: &'a HashMap<String, u64>,
    pub progress: &'a HashMap<String, Progress>,
    /// The page, taken apart ([`PageUrl::parse`]); `None` matches only documents for every page.
    pub page: Option<&'a PageUrl>,
    pub locale: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub now_millis: i64,
    /// The user's active account (B2B), for `account.…` rules.
    pub account: Option<crate::audience::AccountSubject<'a>>,
}

fn millis(s: &Option<String>) -> Option<i64> {
    s.as_deref()
        .and_then(crate::Timestamp::parse_rfc3339)
        .map(crate::Timestamp::millis)
}

fn compile(pages: &[PageRule]) -> Vec<CompiledPageRule> {
    // Published documents were validated; a rule that no longer compiles matches nothing.
    pages.iter().filter_map(|p| p.compile().ok()).collect()
}

impl Prepared {
    pub fn new(id: String, version: i64, kill_switch: bool, doc: Doc) -> Prepared {
        let (pages, rule, audience_id, schedule, frequency, priority) = match &doc {
            Doc::Tour(t) => (
                &t.pages,
                &t.audience,
                &t.audience_id,
                t.schedule.clone(),
                t.frequency.clone(),
                t.priority,
            ),
            Doc::Content(c) => (
                &c.pages,
                &c.audience,
                &c.audience_id,
                c.schedule.clone(),
                c.frequency.clone(),
                c.priority,
            ),
            Doc::Checklist(c) => (
                &c.pages,
                &c.audience,
                &c.audience_id,
                c.schedule.clone(),
                Frequency::UntilCompleted,
                c.priority,
            ),
            Doc::Launcher(l) => (
                &l.pages,
                &l.audience,
                &l.audience_id,
                Schedule::default(),
                Frequency::EverySession,
                l.priority,
            ),
        };
        let step_pages = match &doc {
            Doc::Tour(t) => t.steps.iter().any(|s| s.page_url.is_some()),
            _ => false,
        };
        Prepared {
            step_pages,
            pages: compile(pages),
            audience: (!rule.trim().is_empty())
                .then(|| audience::parse(rule).ok())
                .flatten(),
            audience_id: audience_id.clone(),
            start: millis(&schedule.start),
            end: millis(&schedule.end),
            frequency,
            priority,
            id,
            version,
            kill_switch,
            doc,
        }
    }

    pub fn experiment(&self) -> Option<&crate::experiment::Experiment> {
        match &self.doc {
            Doc::Tour(t) => t.experiment.as_ref(),
            Doc::Content(c) => c.experiment.as_ref(),
            _ => None,
        }
    }

    pub fn theme_id(&self) -> Option<&str> {
        match &self.doc {
            Doc::Tour(t) => t.theme_id.as_deref(),
            Doc::Content(c) => c.theme_id.as_deref(),
            Doc::Checklist(c) => c.theme_id.as_deref(),
            Doc::Launcher(l) => l.theme_id.as_deref(),
        }
    }

    /// Whether a locale variant changes this document's text.
    pub fn has_locale(&self, locale: Option<&str>) -> bool {
        match &self.doc {
            Doc::Tour(t) => pick_locale(&t.locales, locale).is_some(),
            Doc::Content(c) => pick_locale(&c.locales, locale).is_some(),
            Doc::Checklist(c) => pick_locale(&c.locales, locale).is_some(),
            Doc::Launcher(_) => false,
        }
    }

    fn on_page(&self, page: Option<&PageUrl>) -> bool {
        self.pages.is_empty() || page.is_some_and(|u| self.pages.iter().any(|p| p.matches_page(u)))
    }

    /// A multi-page tour in progress resumes where the step reached, or the
    /// one after it (the user pressed Next on a step whose successor lives on
    /// another page), has its page.
    fn resumes_here(&self, progress: Option<&Progress>, page: Option<&PageUrl>) -> bool {
        let (Doc::Tour(t), Some(p), Some(here)) = (&self.doc, progress, page) else {
            return false;
        };
        let Some(reached) = p.step_reached.filter(|_| !p.completed && !p.dismissed) else {
            return false;
        };
        let lives_here = |i: usize| {
            t.steps
                .get(i)
                .and_then(|s| s.page_url.as_deref())
                .is_some_and(|u| here.path().trim_end_matches('/') == u.trim_end_matches('/'))
        };
        lives_here(reached) || lives_here(reached + 1)
    }

    /// What the user has on screen and has not finished: a tour started and
    /// neither completed nor dismissed; an announcement shown in this session
    /// and not dismissed.
    fn under_way(&self, p: Option<&Progress>, v: &Viewer<'_>) -> bool {
        let Some(p) = p.filter(|p| !p.completed && !p.dismissed) else {
            return false;
        };
        match self.doc {
            Doc::Tour(_) => p.step_reached.is_some(),
            Doc::Content(_) => v.session_id.is_some() && p.last_session.as_deref() == v.session_id,
            _ => false,
        }
    }

    /// Delivered only because it is under way on one of its pages (its
    /// frequency would not show it again now): the SDK keeps a running tour or
    /// a shown announcement through a single-page app's route changes, and
    /// never starts or shows it afresh.
    pub fn resume_only(&self, v: &Viewer<'_>) -> bool {
        let progress = v.progress.get(&self.id);
        self.under_way(progress, v)
            && !self.resumes_here(progress, v.page)
            && !self.frequency_allows(progress, v)
    }

    fn frequency_allows(&self, p: Option<&Progress>, v: &Viewer<'_>) -> bool {
        if self.frequency == Frequency::OncePerAccount
            && v.account
                .is_some_and(|a| a.shown.get(&self.id).is_some_and(|n| *n > 0))
        {
            return false;
        }
        let Some(p) = p else { return true };
        match &self.frequency {
            Frequency::Once => p.times_shown == 0,
            Frequency::OncePerAccount => p.times_shown == 0,
            Frequency::UntilCompleted => !p.completed && !p.dismissed,
            Frequency::EverySession => {
                v.session_id.is_none() || p.last_session.as_deref() != v.session_id
            }
            Frequency::EveryNDays { days } => p
                .last_shown_millis
                .is_none_or(|last| v.now_millis - last >= i64::from(*days) * DAY_MS),
        }
    }
}

/// Everything the viewer should see, highest priority first (ties: by id).
pub fn evaluate<'p>(
    published: &'p [Prepared],
    audiences: &HashMap<String, Expr>,
    v: &Viewer<'_>,
) -> Vec<&'p Prepared> {
    evaluate_by(published, |p| p, audiences, v)
}

/// [`evaluate`] over anything that holds a [`Prepared`].
pub fn evaluate_by<'p, T>(
    items: &'p [T],
    prepared: impl Fn(&T) -> &Prepared,
    audiences: &HashMap<String, Expr>,
    v: &Viewer<'_>,
) -> Vec<&'p T> {
    let subject = Subject {
        attributes: v.attributes,
        event_counts: v.event_counts,
        now_millis: v.now_millis,
        account: v.account,
    };
    let page = v.page;
    let mut out: Vec<&T> = items
        .iter()
        .filter(|item| {
            let p = prepared(item);
            if p.kill_switch {
                return false;
            }
            if !(p.start.is_none_or(|s| v.now_millis >= s)
                && p.end.is_none_or(|e| v.now_millis < e))
            {
                return false;
            }
            let on_page = p.on_page(page);
            if !on_page && !p.step_pages {
                // Neither shown here nor able to resume here: no need for progress.
                return false;
            }
            let progress = v.progress.get(&p.id);
            if !(p.resumes_here(progress, page)
                || (on_page && (p.frequency_allows(progress, v) || p.under_way(progress, v))))
            {
                return false;
            }
            if !p.audience.as_ref().is_none_or(|e| e.eval(&subject)) {
                return false;
            }
            match &p.audience_id {
                // A saved audience that no longer exists matches nobody.
                Some(id) => audiences.get(id).is_some_and(|e| e.eval(&subject)),
                None => true,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let (a, b) = (prepared(a), prepared(b));
        b.priority.cmp(&a.priority).then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// The best locale variant available: exact (`pt-BR`), then the language (`pt`).
pub fn pick_locale<'a, T>(
    variants: &'a std::collections::BTreeMap<String, T>,
    wanted: Option<&str>,
) -> Option<&'a T> {
    let wanted = wanted?;
    variants.get(wanted).or_else(|| {
        let lang = wanted.split('-').next()?;
        variants.get(lang)
    })
}

/// The announcement with the texts of the viewer's locale applied.
pub fn localize_content(c: &Content, locale: Option<&str>) -> Content {
    let mut out = c.clone();
    if let Some(text) = pick_locale(&c.locales, locale) {
        if let Some(title) = &text.title {
            out.title = title.clone();
        }
        if let Some(body) = &text.body {
            out.body = body.clone();
        }
    }
    out.locales.clear();
    out
}

/// The checklist with the texts of the viewer's locale applied.
pub fn localize_checklist(c: &Checklist, locale: Option<&str>) -> Checklist {
    let mut out = c.clone();
    if let Some(text) = pick_locale(&c.locales, locale) {
        if let Some(title) = &text.title {
            out.title = title.clone();
        }
        if let Some(d) = &text.description {
            out.description = d.clone();
        }
        for item in &mut out.items {
            if let Some(t) = text.items.get(&item.id) {
                if let Some(title) = &t.title {
                    item.title = title.clone();
                }
                if let Some(d) = &t.description {
                    item.description = d.clone();
                }
            }
        }
    }
    out.locales.clear();
    out
}

/// The tour with the texts of the viewer's locale applied.
pub fn localize_tour(t: &Tour, locale: Option<&str>) -> Tour {
    let mut out = t.clone();
    if let Some(texts) = pick_locale(&t.locales, locale) {
        for (step, text) in out.steps.iter_mut().zip(texts) {
            if let Some(title) = &text.title {
                step.title = title.clone();
            }
            if let Some(body) = &text.body {
                step.body = body.clone();
            }
            for (button, label) in step.buttons.iter_mut().zip(&text.buttons) {
                button.set_label(label.clone());
            }
        }
    }
    out.locales.clear();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::AccountSubject;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000; // 2027-01-15

    fn tour(v: Json) -> Tour {
        let mut base = json!({"name": "T", "steps": [{"kind": "modal", "title": "Hi"}]});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn prepared(id: &str, v: Json) -> Prepared {
        Prepared::new(id.into(), 1, false, Doc::Tour(tour(v)))
    }

    struct Case {
        name: &'static str,
        doc: Json,
        attrs: Json,
        events: Vec<(&'static str, u64)>,
        progress: Option<Progress>,
        url: &'static str,
        session: Option<&'static str>,
        shown: bool,
    }

    fn case(name: &'static str, doc: Json, shown: bool) -> Case {
        Case {
            name,
            doc,
            attrs: json!({}),
            events: vec![],
            progress: None,
            url: "https://app.test/app/1",
            session: Some("s1"),
            shown,
        }
    }

    #[test]
    fn table() {
        let days_ago = |d: i64| Some(NOW - d * DAY_MS);
        let cases = vec![
            case("everyone, every page", json!({}), true),
            case(
                "page glob matches",
                json!({"pages": [{"match": "glob", "pattern": "/app/*"}]}),
                true,
            ),
            case(
                "page glob misses",
                json!({"pages": [{"match": "exact", "pattern": "/settings"}]}),
                false,
            ),
            Case {
                attrs: json!({"plan": "pro"}),
                ..case(
                    "audience matches",
                    json!({"audience": "plan = \"pro\""}),
                    true,
                )
            },
            Case {
                attrs: json!({"plan": "free"}),
                ..case(
                    "audience misses",
                    json!({"audience": "plan = \"pro\""}),
                    false,
                )
            },
            Case {
                events: vec![("export", 3)],
                ..case(
                    "event count",
                    json!({"audience": "event(\"export\") >= 2"}),
                    true,
                )
            },
            case(
                "scheduled later",
                json!({"schedule": {"start": "2030-01-01T00:00:00Z"}}),
                false,
            ),
            case(
                "schedule over",
                json!({"schedule": {"end": "2020-01-01T00:00:00Z"}}),
                false,
            ),
            case(
                "inside schedule",
                json!({"schedule": {"start": "2020-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}}),
                true,
            ),
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    ..Default::default()
                }),
                ..case("once, already shown", json!({}), false)
            },
            Case {
                progress: Some(Progress {
                    times_shown: 3,
                    ..Default::default()
                }),
                ..case(
                    "until completed, not yet",
                    json!({"frequency": {"type": "until_completed"}}),
                    true,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 3,
                    completed: true,
                    ..Default::default()
                }),
                ..case(
                    "until completed, done",
                    json!({"frequency": {"type": "until_completed"}}),
                    false,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    dismissed: true,
                    ..Default::default()
                }),
                ..case(
                    "until completed, dismissed",
                    json!({"frequency": {"type": "until_completed"}}),
                    false,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    last_session: Some("s1".into()),
                    ..Default::default()
                }),
                ..case(
                    "every session, same session",
                    json!({"frequency": {"type": "every_session"}}),
                    false,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    last_session: Some("s0".into()),
                    completed: true,
                    ..Default::default()
                }),
                ..case(
                    "every session, new session",
                    json!({"frequency": {"type": "every_session"}}),
                    true,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    last_shown_millis: days_ago(3),
                    ..Default::default()
                }),
                ..case(
                    "every 7 days, 3 days ago",
                    json!({"frequency": {"type": "every_n_days", "days": 7}}),
                    false,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    last_shown_millis: days_ago(8),
                    ..Default::default()
                }),
                ..case(
                    "every 7 days, 8 days ago",
                    json!({"frequency": {"type": "every_n_days", "days": 7}}),
                    true,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    step_reached: Some(1),
                    ..Default::default()
                }),
                url: "https://app.test/reports",
                ..case(
                    "multi-page tour resumes on its next page",
                    json!({"pages": [{"match": "exact", "pattern": "/start"}], "steps": [{"kind": "modal", "title": "A"}, {"kind": "modal", "title": "B", "page_url": "/reports"}]}),
                    true,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    step_reached: Some(0),
                    ..Default::default()
                }),
                url: "https://app.test/reports",
                ..case(
                    "multi-page tour resumes after Next on the step before",
                    json!({"pages": [{"match": "exact", "pattern": "/start"}], "steps": [{"kind": "modal", "title": "A"}, {"kind": "modal", "title": "B", "page_url": "/reports"}]}),
                    true,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    step_reached: Some(0),
                    dismissed: true,
                    ..Default::default()
                }),
                url: "https://app.test/reports",
                ..case(
                    "a dismissed multi-page tour does not resume",
                    json!({"pages": [{"match": "exact", "pattern": "/start"}], "steps": [{"kind": "modal", "title": "A"}, {"kind": "modal", "title": "B", "page_url": "/reports"}]}),
                    false,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    step_reached: Some(0),
                    ..Default::default()
                }),
                ..case(
                    "once, under way: goes on (a route change in an SPA)",
                    json!({}),
                    true,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    step_reached: Some(0),
                    ..Default::default()
                }),
                url: "https://app.test/elsewhere",
                ..case(
                    "once, under way, off its pages",
                    json!({"pages": [{"match": "exact", "pattern": "/app/1"}]}),
                    false,
                )
            },
            Case {
                progress: Some(Progress {
                    times_shown: 1,
                    step_reached: Some(2),
                    completed: true,
                    ..Default::default()
                }),
                ..case("once, completed", json!({}), false)
            },
        ];
        for c in cases {
            let p = vec![prepared("t1", c.doc)];
            let serde_json::Value::Object(attributes) = c.attrs else {
                panic!()
            };
            let events: HashMap<String, u64> =
                c.events.iter().map(|(k, v)| ((*k).into(), *v)).collect();
            let progress: HashMap<String, Progress> = c
                .progress
                .map(|p| ("t1".to_owned(), p))
                .into_iter()
                .collect();
            let page = PageUrl::parse(c.url);
            let v = Viewer {
                attributes: &attributes,
                event_counts: &events,
                progress: &progress,
                page: page.as_ref(),
                locale: None,
                session_id: c.session,
                now_millis: NOW,
                account: None,
            };
            assert_eq!(
                evaluate(&p, &HashMap::new(), &v).len() == 1,
                c.shown,
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn resume_only_marks_what_may_go_on_but_not_start() {
        let attributes = serde_json::Map::new();
        let events = HashMap::new();
        let page = PageUrl::parse("https://app.test/app/1");
        let viewer = |progress: &HashMap<String, Progress>| -> bool {
            let v = Viewer {
                attributes: &attributes,
                event_counts: &events,
                progress,
                page: page.as_ref(),
                locale: None,
                session_id: None,
                now_millis: 0,
                account: None,
            };
            prepared("t1", json!({})).resume_only(&v)
        };
        let with = |p: Progress| HashMap::from([("t1".to_owned(), p)]);
        assert!(!viewer(&HashMap::new()), "never shown: a fresh start");
        assert!(viewer(&with(Progress {
            times_shown: 1,
            step_reached: Some(1),
            ..Default::default()
        })));
        assert!(!viewer(&with(Progress {
            times_shown: 1,
            step_reached: Some(1),
            dismissed: true,
            ..Default::default()
        })));

        // An announcement shown once stays through this session's route changes, no further.
        let banner: Content =
            serde_json::from_value(json!({"name": "B", "type": "banner"})).unwrap();
        let banner = Prepared::new("t1".into(), 1, false, Doc::Content(banner));
        let shown = with(Progress {
            times_shown: 1,
            last_session: Some("s1".into()),
            ..Default::default()
        });
        let delivered = |session| {
            let v = Viewer {
                attributes: &attributes,
                event_counts: &events,
                progress: &shown,
                page: page.as_ref(),
                locale: None,
                session_id: Some(session),
                now_millis: 0,
                account: None,
            };
            (
                !evaluate(std::slice::from_ref(&banner), &HashMap::new(), &v).is_empty(),
                banner.resume_only(&v),
            )
        };
        assert_eq!(delivered("s1"), (true, true), "same session: stays");
        assert_eq!(
            delivered("s2"),
            (false, false),
            "a new session: once is once"
        );
    }

    #[test]
    fn once_per_account_is_for_the_first_member_only() {
        let banner: Content = serde_json::from_value(
            json!({"name": "B", "type": "banner", "frequency": {"type": "once_per_account"}}),
        )
        .unwrap();
        let banner = Prepared::new("b1".into(), 1, false, Doc::Content(banner));
        let (attributes, events) = (serde_json::Map::new(), HashMap::new());
        let page = PageUrl::parse("https://app.test/");
        let shown_to_account = HashMap::from([("b1".to_owned(), 1u32)]);
        let never = HashMap::new();
        let delivered = |progress: &HashMap<String, Progress>,
                         session: &str,
                         shown: Option<&HashMap<String, u32>>| {
            let v = Viewer {
                attributes: &attributes,
                event_counts: &events,
                progress,
                page: page.as_ref(),
                locale: None,
                session_id: Some(session),
                now_millis: 0,
                account: shown.map(|shown| AccountSubject {
                    attributes: &attributes,
                    event_counts: &events,
                    shown,
                }),
            };
            !evaluate(std::slice::from_ref(&banner), &HashMap::new(), &v).is_empty()
        };
        let none = HashMap::new();
        assert!(delivered(&none, "s1", Some(&never)), "the account's first");
        assert!(
            !delivered(&none, "s1", Some(&shown_to_account)),
            "another member, after one saw it"
        );
        let mine = HashMap::from([(
            "b1".to_owned(),
            Progress {
                times_shown: 1,
                last_session: Some("s1".into()),
                ..Default::default()
            },
        )]);
        assert!(
            delivered(&mine, "s1", Some(&shown_to_account)),
            "the member who saw it keeps it through this session's route changes"
        );
        assert!(
            !delivered(&mine, "s2", Some(&shown_to_account)),
            "not again"
        );
        assert!(delivered(&none, "s1", None), "no account: once");
        assert!(!delivered(&mine, "s2", None), "no account: once is once");
    }

    #[test]
    fn kill_switch_saved_audiences_and_priority() {
        let mut killed = prepared("a", json!({}));
        killed.kill_switch = true;
        let saved = prepared("b", json!({"audience_id": "aud-1"}));
        let missing = prepared("c", json!({"audience_id": "gone"}));
        let low = prepared("d", json!({"priority": -5}));
        let high = prepared("e", json!({"priority": 10}));
        let all = vec![killed, saved, missing, low, high];
        let audiences: HashMap<String, Expr> =
            [("aud-1".to_owned(), audience::parse("seats > 1").unwrap())].into();
        let attributes = json!({"seats": 2}).as_object().unwrap().clone();
        let (events, progress) = (HashMap::new(), HashMap::new());
        let root = PageUrl::parse("/");
        let v = Viewer {
            attributes: &attributes,
            event_counts: &events,
            progress: &progress,
            page: root.as_ref(),
            locale: None,
            session_id: None,
            now_millis: NOW,
            account: None,
        };
        let ids: Vec<&str> = evaluate(&all, &audiences, &v)
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["e", "b", "d"]);
    }

    #[test]
    fn locales_fall_back_to_the_language() {
        let t = tour(json!({
            "steps": [{"kind": "modal", "title": "Hello", "buttons": [{"action": "next", "label": "Next"}]}],
            "locales": {"pt": [{"title": "Olá", "buttons": ["Próximo"]}], "fr-CA": [{"title": "Allô"}]}
        }));
        assert_eq!(localize_tour(&t, Some("pt-BR")).steps[0].title, "Olá");
        assert_eq!(
            localize_tour(&t, Some("pt-BR")).steps[0].buttons[0].label(),
            "Próximo"
        );
        assert_eq!(localize_tour(&t, Some("fr-CA")).steps[0].title, "Allô");
        assert_eq!(
            localize_tour(&t, Some("fr")).steps[0].title,
            "Hello",
            "no fr: default text"
        );
        assert_eq!(localize_tour(&t, Some("xx")).steps[0].title, "Hello");
        assert!(localize_tour(&t, None).locales.is_empty());
    }
}
