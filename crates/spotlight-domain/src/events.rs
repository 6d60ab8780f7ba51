//! Interaction events as the SDK sends them (schema version 1): parsing with a
//! reason for every rejection, checks against what the environment publishes, and
//! the fold from accepted events to the state they change (progress, event counts,
//! checklist items, rollups, experiment exposures and conversions).

use crate::content::{Checklist, Completion};
use crate::experiment::Experiment;
use crate::object::ObjectKind;
use crate::tour::Tour;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const MAX_BATCH: usize = 100;
/// Serialised `properties` of one event.
pub const MAX_PROPERTIES_BYTES: usize = 8 * 1024;
/// Clocks drift: a little future is tolerated, more is a bug or a forgery.
pub const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;
/// Offline queues may flush late, but not this late.
pub const MAX_AGE_MS: i64 = 30 * DAY_MS;
pub const SCHEMA_VERSIONS: &[u64] = &[1];
const DAY_MS: i64 = crate::Timestamp::DAY_MS;
/// The rollup name under which survey answers are counted one by one.
pub const SURVEY_ANSWER: &str = "survey_answered#answer";
const HOUR_MS: i64 = crate::Timestamp::HOUR_MS;
const MAX_NAME: usize = 64;
const MAX_TEXT_ANSWER: usize = 2_000;
const MAX_CHOICES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    TourStarted,
    StepViewed,
    StepCompleted,
    TourCompleted,
    TourDismissed,
    ContentViewed,
    ContentClicked,
    ContentDismissed,
    ChecklistItemCompleted,
    SurveyAnswered,
    LauncherOpened,
    ExperimentExposed,
    Identify,
    Custom,
}

impl Kind {
    pub const BUILT_IN: [Kind; 13] = [
        Kind::TourStarted,
        Kind::StepViewed,
        Kind::StepCompleted,
        Kind::TourCompleted,
        Kind::TourDismissed,
        Kind::ContentViewed,
        Kind::ContentClicked,
        Kind::ContentDismissed,
        Kind::ChecklistItemCompleted,
        Kind::SurveyAnswered,
        Kind::LauncherOpened,
        Kind::ExperimentExposed,
        Kind::Identify,
    ];

    pub fn parse(name: &str) -> Kind {
        Kind::BUILT_IN
            .into_iter()
            .find(|k| k.as_str() == name)
            .unwrap_or(Kind::Custom)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TourStarted => "tour_started",
            Kind::StepViewed => "step_viewed",
            Kind::StepCompleted => "step_completed",
            Kind::TourCompleted => "tour_completed",
            Kind::TourDismissed => "tour_dismissed",
            Kind::ContentViewed => "content_viewed",
            Kind::ContentClicked => "content_clicked",
            Kind::ContentDismissed => "content_dismissed",
            Kind::ChecklistItemCompleted => "checklist_item_completed",
            Kind::SurveyAnswered => "survey_answered",
            Kind::LauncherOpened => "launcher_opened",
            Kind::ExperimentExposed => "experiment_exposed",
            Kind::Identify => "identify",
            Kind::Custom => "custom",
        }
    }

    /// The property naming the object the event is about, and its kind.
    fn object_field(self) -> Option<(&'static str, Option<ObjectKind>)> {
        Some(match self {
            Kind::TourStarted
            | Kind::StepViewed
            | Kind::StepCompleted
            | Kind::TourCompleted
            | Kind::TourDismissed
            | Kind::SurveyAnswered => ("tour_id", Some(ObjectKind::Tour)),
            Kind::ContentViewed | Kind::ContentClicked | Kind::ContentDismissed => {
                ("content_id", Some(ObjectKind::Content))
            }
            Kind::ChecklistItemCompleted => ("checklist_id", Some(ObjectKind::Checklist)),
            Kind::LauncherOpened => ("launcher_id", Some(ObjectKind::Launcher)),
            // A tour or an announcement.
            Kind::ExperimentExposed => ("object_id", None),
            Kind::Identify | Kind::Custom => return None,
        })
    }

    /// Properties a built-in event may carry besides its object id.
    fn allowed(self) -> &'static [&'static str] {
        match self {
            Kind::TourStarted => &["version", "url", "trigger"],
            Kind::StepViewed | Kind::StepCompleted => &["step", "step_id", "version", "url"],
            Kind::TourCompleted | Kind::TourDismissed => &["step", "step_id", "version", "url"],
            Kind::ContentViewed | Kind::ContentDismissed => &["version", "url"],
            Kind::ContentClicked => &["version", "url", "cta"],
            Kind::ChecklistItemCompleted => &["item_id", "url"],
            Kind::SurveyAnswered => &[
                "step", "step_id", "version", "url", "score", "choices", "text",
            ],
            Kind::LauncherOpened => &["url"],
            Kind::ExperimentExposed => &["arm", "url"],
            Kind::Identify | Kind::Custom => &[],
        }
    }
}

/// A survey response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Score(i64),
    Choices(Vec<String>),
    Text(String),
}

/// One accepted event, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: uuid::Uuid,
    pub schema_version: u64,
    pub kind: Kind,
    /// The built-in kind's name, or the custom event's.
    pub name: String,
    /// Empty only for an event the tenant's backend sent for an account alone.
    pub user_id: String,
    /// The account (B2B) the event was sent for.
    pub account_id: Option<String>,
    pub session_id: Option<String>,
    pub occurred_at: i64,
    pub object_id: Option<String>,
    pub object_kind: Option<ObjectKind>,
    pub step: Option<u32>,
    pub item_id: Option<String>,
    pub arm: Option<String>,
    pub answer: Option<Answer>,
    pub properties: Map<String, Value>,
    /// `properties` as stored and delivered.
    pub properties_json: String,
}

/// Why one event of a batch was not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rejection {
    /// The event's position in the batch.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `invalid_event`, `unknown_schema_version`, `timestamp_in_future`,
    /// `timestamp_too_old`, `too_large`, `unknown_object`, `unknown_step`,
    /// `unknown_item`, `unknown_arm`, `user_mismatch`.
    pub code: &'static str,
    pub message: String,
}

pub struct ParseContext<'a> {
    pub now_millis: i64,
    /// The batch's `user_id`, for events that carry none.
    pub default_user: Option<&'a str>,
    /// The batch's `account_id`, for events that carry none.
    pub default_account: Option<&'a str>,
    /// Whether an event may name an account and no user (the tenant's backend).
    pub account_only: bool,
}

type Fail = (&'static str, String);

fn invalid(message: impl Into<String>) -> Fail {
    ("invalid_event", message.into())
}

fn string_field<'v>(
    m: &'v Map<String, Value>,
    field: &str,
    max: usize,
) -> Result<Option<&'v str>, Fail> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= max => Ok(Some(s)),
        Some(Value::String(_)) => Err(invalid(format!("{field} must be 1 to {max} characters"))),
        Some(_) => Err(invalid(format!("{field} must be a string"))),
    }
}

fn int_field(m: &Map<String, Value>, field: &str, min: i64, max: i64) -> Result<Option<i64>, Fail> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) if (min..=max).contains(&i) => Ok(Some(i)),
            _ => Err(invalid(format!(
                "{field} must be an integer from {min} to {max}"
            ))),
        },
        Some(_) => Err(invalid(format!("{field} must be an integer"))),
    }
}

fn timestamp(v: Option<&Value>) -> Result<i64, Fail> {
    match v {
        Some(Value::String(s)) => crate::Timestamp::parse_rfc3339(s)
            .map(crate::Timestamp::millis)
            .ok_or_else(|| invalid("timestamp must be an RFC 3339 date-time")),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| invalid("timestamp must be milliseconds since 1970")),
        None | Some(Value::Null) => Err(invalid("timestamp is required")),
        Some(_) => Err(invalid(
            "timestamp must be an RFC 3339 string or milliseconds since 1970",
        )),
    }
}

/// Custom event names: 1–64 letters, digits, spaces and `_ . : - /`.
pub fn valid_event_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _.:-/".contains(&b))
        && !name.starts_with(' ')
}

const TOP_LEVEL: &[&str] = &[
    "event_id",
    "schema_version",
    "name",
    "timestamp",
    "user_id",
    "account_id",
    "session_id",
    "properties",
];

/// Parses one event of a batch (position `index`).
pub fn parse_event(index: usize, v: &Value, cx: &ParseContext<'_>) -> Result<Event, Rejection> {
    let event_id = v
        .get("event_id")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(64).collect::<String>());
    parse_inner(v, cx).map_err(|(code, message)| Rejection {
        index,
        event_id,
        code,
        message,
    })
}

fn parse_inner(v: &Value, cx: &ParseContext<'_>) -> Result<Event, Fail> {
    let Value::Object(m) = v else {
        return Err(invalid("an event must be a JSON object"));
    };
    if let Some(path) = crate::validation::nul_path(v) {
        return Err(invalid(format!(
            "{path} {}",
            crate::validation::NUL_MESSAGE
        )));
    }
    if let Some(k) = m.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
        return Err(invalid(format!("unknown field {k}")));
    }
    let event_id = match m.get("event_id") {
        Some(Value::String(s)) => uuid::Uuid::parse_str(s)
            .ok()
            .filter(|_| s.len() == 36)
            .ok_or_else(|| invalid("event_id must be a UUID"))?,
        _ => return Err(invalid("event_id is required (a UUID)")),
    };
    let schema_version = match m.get("schema_version") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| invalid("schema_version must be a positive integer"))?,
        None => return Err(invalid("schema_version is required")),
        Some(_) => return Err(invalid("schema_version must be an integer")),
    };
    if !SCHEMA_VERSIONS.contains(&schema_version) {
        return Err((
            "unknown_schema_version",
            format!("schema_version {schema_version} is not known; this server accepts 1"),
        ));
    }
    let name = match m.get("name") {
        Some(Value::String(s)) if valid_event_name(s) => s.clone(),
        Some(Value::String(_)) => {
            return Err(invalid(
                "name must be 1 to 64 letters, digits, spaces or _ . : - /",
            ))
        }
        None => return Err(invalid("name is required")),
        Some(_) => return Err(invalid("name must be a string")),
    };
    let kind = Kind::parse(&name);
    let occurred_at = timestamp(m.get("timestamp"))?;
    if occurred_at > cx.now_millis + MAX_FUTURE_MS {
        return Err((
            "timestamp_in_future",
            "timestamp is more than 5 minutes ahead of the server's clock".into(),
        ));
    }
    if occurred_at < cx.now_millis - MAX_AGE_MS {
        return Err((
            "timestamp_too_old",
            "timestamp is more than 30 days in the past".into(),
        ));
    }
    let account_id = match string_field(m, "account_id", 256)?.or(cx.default_account) {
        Some(a) => {
            crate::end_user::check_account_id(a).map_err(|e| invalid(format!("account_id {e}")))?;
            Some(a.to_owned())
        }
        None => None,
    };
    let user_id = match string_field(m, "user_id", 256)?.or(cx.default_user) {
        Some(u) => {
            crate::end_user::check_user_id(u).map_err(|e| invalid(format!("user_id {e}")))?;
            u.to_owned()
        }
        None if cx.account_only && account_id.is_some() => String::new(),
        None if cx.account_only => {
            return Err(invalid(
                "user_id or account_id is required (on the event or the batch)",
            ))
        }
        None => return Err(invalid("user_id is required (on the event or the batch)")),
    };
    if user_id.is_empty() && kind != Kind::Custom {
        return Err(invalid(format!(
            "{} is about a user: user_id is required",
            kind.as_str()
        )));
    }
    let session_id = string_field(m, "session_id", 128)?.map(str::to_owned);
    let properties = match m.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(invalid("properties must be an object")),
    };
    let properties_json = serde_json::to_string(&properties).unwrap_or_default();
    if properties_json.len() > MAX_PROPERTIES_BYTES {
        return Err((
            "too_large",
            format!("properties are at most {MAX_PROPERTIES_BYTES} bytes of JSON"),
        ));
    }
    let mut event = Event {
        event_id,
        schema_version,
        kind,
        name,
        user_id,
        account_id,
        session_id,
        occurred_at,
        object_id: None,
        object_kind: None,
        step: None,
        item_id: None,
        arm: None,
        answer: None,
        properties,
        properties_json,
    };
    typed_properties(&mut event)?;
    Ok(event)
}

fn typed_properties(e: &mut Event) -> Result<(), Fail> {
    let p = &e.properties;
    match e.kind {
        Kind::Custom => return Ok(()),
        Kind::Identify => {
            return crate::end_user::check_attributes(p)
                .map_err(|m| invalid(format!("identify properties: {m}")));
        }
        _ => {}
    }
    let Some((field, object_kind)) = e.kind.object_field() else {
        return Ok(());
    };
    let allowed = e.kind.allowed();
    if let Some(k) = p
        .keys()
        .find(|k| k.as_str() != field && !allowed.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "unknown property {k} for {} (schema version 1)",
            e.kind.as_str()
        )));
    }
    let id = string_field(p, field, 64)?
        .ok_or_else(|| invalid(format!("properties.{field} is required")))?;
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(invalid(format!("properties.{field} must be an object id")));
    }
    string_field(p, "url", 2048)?;
    string_field(p, "step_id", 64)?;
    string_field(p, "trigger", 32)?;
    string_field(p, "cta", 200)?;
    int_field(p, "version", 1, i64::from(u32::MAX))?;
    let step = int_field(p, "step", 0, 999)?.map(|s| s as u32);
    let needs_step = matches!(
        e.kind,
        Kind::StepViewed | Kind::StepCompleted | Kind::SurveyAnswered
    );
    if needs_step && step.is_none() {
        return Err(invalid("properties.step is required (the step's index)"));
    }
    if e.kind == Kind::ChecklistItemCompleted {
        e.item_id = Some(
            string_field(p, "item_id", 64)?
                .ok_or_else(|| invalid("properties.item_id is required"))?
                .to_owned(),
        );
    }
    if e.kind == Kind::ExperimentExposed {
        e.arm = Some(
            string_field(p, "arm", 64)?
                .ok_or_else(|| invalid("properties.arm is required"))?
                .to_owned(),
        );
    }
    if e.kind == Kind::SurveyAnswered {
        e.answer = Some(answer(p)?);
    }
    e.object_id = Some(id.to_owned());
    e.object_kind = object_kind;
    e.step = step;
    Ok(())
}

fn answer(p: &Map<String, Value>) -> Result<Answer, Fail> {
    let score = int_field(p, "score", -1000, 1000)?;
    let text = string_field(p, "text", MAX_TEXT_ANSWER)?;
    let choices = match p.get("choices") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_CHOICES => Some(
            a.iter()
                .map(|c| match c {
                    Value::String(s) if !s.is_empty() && s.len() <= 200 => Ok(s.clone()),
                    _ => Err(invalid("choices are strings of 1 to 200 characters")),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(invalid("choices must be a list of 1 to 20 strings")),
    };
    match (score, choices, text) {
        (Some(s), None, None) => Ok(Answer::Score(s)),
        (None, Some(c), None) => Ok(Answer::Choices(c)),
        (None, None, Some(t)) => Ok(Answer::Text(t.to_owned())),
        _ => Err(invalid(
            "a survey answer has exactly one of score, choices or text",
        )),
    }
}

/// Whether an answer is one the question offers: a score on its scale (NPS
/// 0–10, stars 1–5, a scale between its bounds), one of its choices (one for
/// a single choice, distinct ones for several), or text for a text question.
fn check_answer(survey: &crate::tour::Survey, answer: &Answer) -> Result<(), String> {
    use crate::tour::SurveyKind as K;
    let range = match survey.kind {
        K::Nps => Some((0, 10)),
        K::Stars => Some((1, 5)),
        K::Scale => Some((
            i64::from(survey.min.unwrap_or(1)),
            i64::from(survey.max.unwrap_or(5)),
        )),
        _ => None,
    };
    match (survey.kind, answer) {
        (_, Answer::Score(n)) => match range {
            Some((lo, hi)) if (lo..=hi).contains(n) => Ok(()),
            Some((lo, hi)) => Err(format!("the score must be {lo} to {hi} (got {n})")),
            None => Err("this question is not answered with a score".into()),
        },
        (K::SingleChoice | K::MultipleChoice, Answer::Choices(picked)) => {
            if survey.kind == K::SingleChoice && picked.len() != 1 {
                return Err("this question takes exactly one choice".into());
            }
            if let Some(c) = picked.iter().find(|c| !survey.choices.contains(c)) {
                return Err(format!("{c:?} is not one of the question's choices"));
            }
            let distinct: std::collections::HashSet<&String> = picked.iter().collect();
            if distinct.len() != picked.len() {
                return Err("a choice is picked at most once".into());
            }
            Ok(())
        }
        (_, Answer::Choices(_)) => Err("this question is not answered with choices".into()),
        (K::Text, Answer::Text(_)) => Ok(()),
        (_, Answer::Text(_)) => Err("this question is not answered with text".into()),
    }
}

/// What an environment publishes, as far as events refer to it.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    objects: HashMap<String, Entry>,
    /// Goal event → objects whose experiment converts on it.
    goals: HashMap<String, Vec<String>>,
    /// Event name or finished tour → checklist items it ticks.
    auto_items: HashMap<Trigger, Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Trigger {
    Event(String),
    Tour(String),
}

#[derive(Debug, Clone)]
struct Entry {
    kind: ObjectKind,
    steps: usize,
    items: Vec<String>,
    arms: Vec<String>,
    /// A tour's survey questions, by step (`None`: not a survey step).
    surveys: Vec<Option<crate::tour::Survey>>,
}

impl Catalog {
    pub fn add_tour(&mut self, id: &str, tour: &Tour) {
        self.add(
            id,
            ObjectKind::Tour,
            tour.steps.len(),
            vec![],
            tour.experiment.as_ref(),
        );
        if tour.steps.iter().any(|s| s.survey.is_some()) {
            if let Some(entry) = self.objects.get_mut(id) {
                entry.surveys = tour.steps.iter().map(|s| s.survey.clone()).collect();
            }
        }
    }

    pub fn add_content(&mut self, id: &str, experiment: Option<&Experiment>) {
        self.add(id, ObjectKind::Content, 0, vec![], experiment);
    }

    pub fn add_launcher(&mut self, id: &str) {
        self.add(id, ObjectKind::Launcher, 0, vec![], None);
    }

    pub fn add_checklist(&mut self, id: &str, checklist: &Checklist) {
        for item in &checklist.items {
            let trigger = match &item.completed_by {
                Completion::Event { event } => Trigger::Event(event.clone()),
                Completion::Tour { tour_id } => Trigger::Tour(tour_id.clone()),
                Completion::Click { .. } => continue,
            };
            self.auto_items
                .entry(trigger)
                .or_default()
                .push((id.to_owned(), item.id.clone()));
        }
        let items = checklist.items.iter().map(|i| i.id.clone()).collect();
        self.add(id, ObjectKind::Checklist, 0, items, None);
    }

    fn add(
        &mut self,
        id: &str,
        kind: ObjectKind,
        steps: usize,
        items: Vec<String>,
        experiment: Option<&Experiment>,
    ) {
        let arms = experiment
            .map(|x| x.arms.iter().map(|a| a.name.clone()).collect())
            .unwrap_or_default();
        if let Some(x) = experiment {
            self.goals
                .entry(x.goal_event.clone())
                .or_default()
                .push(id.to_owned());
        }
        self.objects.insert(
            id.to_owned(),
            Entry {
                kind,
                steps,
                items,
                arms,
                surveys: Vec::new(),
            },
        );
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Checks an event's references. `Ok(false)`: the object is not published here
    /// (the caller may still find it as a draft being previewed).
    pub fn check(&self, e: &Event) -> Result<bool, (&'static str, String)> {
        let Some(id) = &e.object_id else {
            return Ok(true);
        };
        let Some(entry) = self.objects.get(id) else {
            return Ok(false);
        };
        let kind_ok = match e.object_kind {
            Some(k) => k == entry.kind,
            None => matches!(entry.kind, ObjectKind::Tour | ObjectKind::Content),
        };
        if !kind_ok {
            return Err((
                "unknown_object",
                format!(
                    "{id} is a {}, not what {} refers to",
                    entry.kind.as_str(),
                    e.name
                ),
            ));
        }
        if let Some(step) = e.step {
            if entry.kind == ObjectKind::Tour && step as usize >= entry.steps {
                return Err((
                    "unknown_step",
                    format!("step {step} is past the tour's {} steps", entry.steps),
                ));
            }
        }
        if let (Some(answer), Some(step)) = (&e.answer, e.step) {
            let survey = entry.surveys.get(step as usize).and_then(Option::as_ref);
            let Some(survey) = survey else {
                return Err((
                    "invalid_answer",
                    format!("step {step} of {id} asks no survey question"),
                ));
            };
            check_answer(survey, answer).map_err(|m| ("invalid_answer", m))?;
        }
        if let Some(item) = &e.item_id {
            if !entry.items.contains(item) {
                return Err(("unknown_item", format!("the checklist has no item {item}")));
            }
        }
        if let Some(arm) = &e.arm {
            if !entry.arms.contains(arm) {
                return Err((
                    "unknown_arm",
                    format!("{id} runs no experiment with an arm {arm}"),
                ));
            }
        }
        Ok(true)
    }

    /// The item ids of a published checklist.
    pub fn checklist_items(&self, id: &str) -> Option<&[String]> {
        self.objects
            .get(id)
            .filter(|e| e.kind == ObjectKind::Checklist)
            .map(|e| e.items.as_slice())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Hour,
    Day,
}

impl Grain {
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Hour => "hour",
            Grain::Day => "day",
        }
    }
    pub fn parse(s: &str) -> Option<Grain> {
        match s {
            "hour" => Some(Grain::Hour),
            "day" => Some(Grain::Day),
            _ => None,
        }
    }
    pub fn millis(self) -> i64 {
        match self {
            Grain::Hour => HOUR_MS,
            Grain::Day => DAY_MS,
        }
    }
    /// The start of the bucket holding `at` (UTC).
    pub fn bucket(self, at: i64) -> i64 {
        at.div_euclid(self.millis()) * self.millis()
    }
    /// [`Grain::bucket`], or `None` where it would leave `i64`.
    pub fn checked_bucket(self, at: i64) -> Option<i64> {
        at.checked_sub(at.rem_euclid(self.millis()))
    }
}

/// One rollup counter: per grain and bucket, object (or none: `""`), step (or
/// none: -1), event, and a detail (a survey answer, an experiment arm).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub grain: Grain,
    pub bucket: i64,
    pub object_id: String,
    pub step: i64,
    pub event: String,
    pub detail: String,
}

/// How one user's history with one object changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressDelta {
    pub shown: u32,
    pub last_shown: Option<i64>,
    pub last_session: Option<String>,
    pub step_reached: Option<u32>,
    pub started: Option<i64>,
    pub completed: Option<i64>,
    pub dismissed: Option<i64>,
    pub items: BTreeSet<String>,
    /// For checklists: every item it has (completion is decided against these).
    pub all_items: Option<Vec<String>>,
}

/// The `rollup_users` object under which a tour step's viewers are kept: the
/// tour's id, `#`, the step's index (`#` never occurs in an object id).
pub fn step_viewers_key(object: &str, step: i64) -> String {
    format!("{object}#{step}")
}

/// Everything a set of newly accepted events changes, aggregated so the store
/// writes each row once.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// user → (first, last) event time.
    pub users: BTreeMap<String, (i64, i64)>,
    /// (user, event name) → (count, last time).
    pub counts: BTreeMap<(String, String), (u64, i64)>,
    /// (user, object) → delta.
    pub progress: BTreeMap<(String, String), ProgressDelta>,
    pub rollups: BTreeMap<RollupKey, u64>,
    /// (day, object or "", user): distinct users per day.
    pub uniques: BTreeSet<(i64, String, String)>,
    /// (object, user) → (arm, first exposure).
    pub exposures: BTreeMap<(String, String), (String, i64)>,
    /// (object, user) → first goal event.
    pub conversions: BTreeMap<(String, String), i64>,
    /// user → attributes from `identify` (later events win).
    pub identities: BTreeMap<String, Map<String, Value>>,
    /// account → (first, last) event time.
    pub accounts: BTreeMap<String, (i64, i64)>,
    /// (account, user) → first event time: who the account's events came from.
    pub account_members: BTreeMap<(String, String), i64>,
    /// (account, event name) → (count, last time): `account.event("…")`.
    pub account_counts: BTreeMap<(String, String), (u64, i64)>,
    /// (account, object) → (times shown, last time): "once per account".
    pub account_shown: BTreeMap<(String, String), (u32, i64)>,
    /// (account, daily rollup key) → count: analytics filtered by account.
    pub account_rollups: BTreeMap<(String, RollupKey), u64>,
    /// (account, day, object or "", user): the account's users per day.
    pub account_uniques: BTreeSet<(String, i64, String, String)>,
}

impl Event {
    /// The rollup counter this event adds one to at `grain`. One counter per
    /// event; exposures and ticked items carry the arm or item as detail.
    fn rollup_key(&self, grain: Grain) -> RollupKey {
        let detail = self.arm.as_ref().or(self.item_id.as_ref());
        RollupKey {
            grain,
            bucket: grain.bucket(self.occurred_at),
            object_id: self.object_id.clone().unwrap_or_default(),
            step: self.step.map_or(-1, i64::from),
            event: self.name.clone(),
            detail: detail.cloned().unwrap_or_default(),
        }
    }

    /// Survey answers are also counted per answer, under a derived name no
    /// tracked event can have (`#` is not allowed in names).
    fn answer_keys(&self, grain: Grain) -> Vec<RollupKey> {
        let answers: Vec<String> = match &self.answer {
            Some(Answer::Score(s)) => vec![s.to_string()],
            Some(Answer::Choices(c)) => c.clone(),
            _ => return vec![],
        };
        answers
            .into_iter()
            .map(|detail| RollupKey {
                event: SURVEY_ANSWER.to_owned(),
                detail,
                ..self.rollup_key(grain)
            })
            .collect()
    }

    /// What the event's user is counted among for the day: everyone (""), its
    /// object's users, and a step's viewers (funnels count people, not views).
    fn unique_objects(&self) -> Vec<String> {
        let mut out = vec![String::new()];
        if let Some(object) = self.object_id.as_deref().filter(|o| !o.is_empty()) {
            out.push(object.to_owned());
            if let (Kind::StepViewed, Some(step)) = (self.kind, self.step) {
                out.push(step_viewers_key(object, i64::from(step)));
            }
        }
        out
    }
}

impl Effects {
    /// What an event sent for an account changes of the account's.
    fn add_for_account(&mut self, a: &str, e: &Event) {
        let at = e.occurred_at;
        let seen = self.accounts.entry(a.to_owned()).or_insert((at, at));
        seen.0 = seen.0.min(at);
        seen.1 = seen.1.max(at);
        if !e.user_id.is_empty() {
            let first = self
                .account_members
                .entry((a.to_owned(), e.user_id.clone()))
                .or_insert(at);
            *first = (*first).min(at);
        }
        let c = self
            .account_counts
            .entry((a.to_owned(), e.name.clone()))
            .or_insert((0, at));
        c.0 += 1;
        c.1 = c.1.max(at);
        if let (Kind::TourStarted | Kind::ContentViewed, Some(object)) = (e.kind, &e.object_id) {
            let s = self
                .account_shown
                .entry((a.to_owned(), object.clone()))
                .or_insert((0, at));
            s.0 += 1;
            s.1 = s.1.max(at);
        }
        let mut keys = e.answer_keys(Grain::Day);
        keys.push(e.rollup_key(Grain::Day));
        for key in keys {
            *self.account_rollups.entry((a.to_owned(), key)).or_default() += 1;
        }
        if !e.user_id.is_empty() {
            let day = Grain::Day.bucket(at);
            for object in e.unique_objects() {
                self.account_uniques
                    .insert((a.to_owned(), day, object, e.user_id.clone()));
            }
        }
    }
}

fn min_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.min(b)))
}

impl Effects {
    /// Folds newly accepted events (duplicates already removed).
    pub fn of<'e>(events: impl IntoIterator<Item = &'e Event>, catalog: &Catalog) -> Effects {
        let mut fx = Effects::default();
        for e in events {
            fx.add(e, catalog);
        }
        for ((_, object), p) in fx.progress.iter_mut() {
            if !p.items.is_empty() {
                p.all_items = catalog.checklist_items(object).map(<[String]>::to_vec);
            }
        }
        fx
    }

    fn progress(&mut self, user: &str, object: &str) -> &mut ProgressDelta {
        self.progress
            .entry((user.to_owned(), object.to_owned()))
            .or_default()
    }

    fn add(&mut self, e: &Event, catalog: &Catalog) {
        let at = e.occurred_at;
        let u = &e.user_id;
        if let Some(a) = &e.account_id {
            self.add_for_account(a, e);
        }
        if u.is_empty() {
            // Sent by the tenant's backend for an account alone: counted, no one's.
            for grain in [Grain::Hour, Grain::Day] {
                *self.rollups.entry(e.rollup_key(grain)).or_default() += 1;
            }
            return;
        }
        let seen = self.users.entry(u.clone()).or_insert((at, at));
        seen.0 = seen.0.min(at);
        seen.1 = seen.1.max(at);
        let c = self
            .counts
            .entry((u.clone(), e.name.clone()))
            .or_insert((0, at));
        c.0 += 1;
        c.1 = c.1.max(at);

        for grain in [Grain::Hour, Grain::Day] {
            *self.rollups.entry(e.rollup_key(grain)).or_default() += 1;
            for key in e.answer_keys(grain) {
                *self.rollups.entry(key).or_default() += 1;
            }
        }
        let day = Grain::Day.bucket(at);
        for object in e.unique_objects() {
            self.uniques.insert((day, object, u.clone()));
        }

        if let Some(id) = &e.object_id {
            let session = e.session_id.clone();
            let p = self.progress(u, id);
            match e.kind {
                Kind::TourStarted | Kind::ContentViewed => {
                    p.shown += 1;
                    if p.last_shown.is_none_or(|l| l <= at) {
                        p.last_shown = Some(at);
                        p.last_session = session;
                    }
                    if e.kind == Kind::TourStarted {
                        p.started = min_opt(p.started, at);
                    }
                }
                Kind::StepViewed | Kind::StepCompleted => {
                    let s = e.step.unwrap_or(0);
                    p.step_reached = Some(p.step_reached.map_or(s, |r| r.max(s)));
                    p.started = min_opt(p.started, at);
                }
                Kind::TourCompleted => p.completed = min_opt(p.completed, at),
                Kind::TourDismissed | Kind::ContentDismissed => {
                    p.dismissed = min_opt(p.dismissed, at)
                }
                Kind::ChecklistItemCompleted => {
                    if let Some(item) = &e.item_id {
                        p.items.insert(item.clone());
                    }
                }
                Kind::ExperimentExposed => {
                    if let Some(arm) = &e.arm {
                        let x = self
                            .exposures
                            .entry((id.clone(), u.clone()))
                            .or_insert((arm.clone(), at));
                        if at < x.1 {
                            *x = (arm.clone(), at);
                        }
                    }
                }
                _ => {}
            }
        }
        // Checklist items ticked by this event or by finishing this tour.
        let mut ticks: Vec<(String, String)> = catalog
            .auto_items
            .get(&Trigger::Event(e.name.clone()))
            .cloned()
            .unwrap_or_default();
        if e.kind == Kind::TourCompleted {
            if let Some(id) = &e.object_id {
                ticks.extend(
                    catalog
                        .auto_items
                        .get(&Trigger::Tour(id.clone()))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        for (checklist, item) in ticks {
            self.progress(u, &checklist).items.insert(item);
        }
        if let Some(objects) = catalog.goals.get(&e.name) {
            for o in objects {
                let c = self.conversions.entry((o.clone(), u.clone())).or_insert(at);
                *c = (*c).min(at);
            }
        }
        if e.kind == Kind::Identify {
            let attrs = self.identities.entry(u.clone()).or_default();
            for (k, v) in &e.properties {
                attrs.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests;
