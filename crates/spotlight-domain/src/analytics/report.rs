//! The analytics answers: from the store's rollup cells, distinct-user counts
//! and progress, the overview, a tour's funnel and series, an announcement's
//! and a checklist's figures, survey distributions and an experiment's arms —
//! pure functions, each answer a view the API serializes as JSON or CSV.

use super::{difference, median, nps, rate, wilson, Range};
use crate::events::{Grain, Kind, SURVEY_ANSWER};
use crate::experiment::Experiment;
use crate::tour::{Survey, SurveyKind};
use crate::{ObjectKind, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One rollup cell: events of a kind in a bucket, for an object (and a step).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub bucket: i64,
    pub object_id: String,
    pub step: i64,
    pub event: String,
    pub detail: String,
    pub count: u64,
}

/// An answer that exports as CSV: its columns, and its rows (most give one).
pub trait CsvRows {
    const HEADER: &'static [&'static str];
    fn csv_rows(&self) -> Vec<Vec<String>>;
}

fn ratio(r: f64) -> String {
    format!("{r:.4}")
}

/// Events of one kind in all cells.
pub fn total(cells: &[Cell], kind: Kind) -> u64 {
    cells
        .iter()
        .filter(|c| c.event == kind.as_str())
        .map(|c| c.count)
        .sum()
}

/// Per bucket of the range, the counts of `kinds` (zero-filled).
pub fn series(range: &Range, cells: &[Cell], kinds: &[Kind]) -> Vec<(i64, Vec<u64>)> {
    let mut by: HashMap<(i64, &str), u64> = HashMap::new();
    for c in cells {
        *by.entry((c.bucket, c.event.as_str())).or_default() += c.count;
    }
    range
        .buckets()
        .map(|b| {
            let counts = kinds
                .iter()
                .map(|k| by.get(&(b, k.as_str())).copied().unwrap_or(0))
                .collect();
            (b, counts)
        })
        .collect()
}

/// Cells that count events (not the derived `name#detail` ones).
fn is_event(c: &Cell) -> bool {
    !c.event.contains('#')
}

/// What an answer covers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub environment: String,
    /// The one account these figures are of (its members' and its own events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub grain: Grain,
}

impl Window {
    pub fn new(environment: String, range: &Range) -> Window {
        Window {
            environment,
            account: None,
            from: Timestamp(range.from),
            to: Timestamp(range.to),
            grain: range.grain,
        }
    }
}

// ---------------------------------------------------------------- overview

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverviewPoint {
    pub bucket: Timestamp,
    pub events: u64,
    pub tour_starts: u64,
    pub tour_completions: u64,
    /// Distinct users that day (daily grain only).
    pub active_users: Option<u64>,
}

impl CsvRows for OverviewPoint {
    const HEADER: &'static [&'static str] = &[
        "bucket",
        "events",
        "tour_starts",
        "tour_completions",
        "active_users",
    ];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.bucket.to_rfc3339(),
            self.events.to_string(),
            self.tour_starts.to_string(),
            self.tour_completions.to_string(),
            self.active_users.map(|n| n.to_string()).unwrap_or_default(),
        ]]
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopTour {
    pub id: String,
    pub name: String,
    pub starts: u64,
    pub completions: u64,
    pub completion_rate: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Overview {
    #[serde(flatten)]
    pub window: Window,
    pub active_users: u64,
    pub new_users: u64,
    pub events: u64,
    pub tour_starts: u64,
    pub tour_completions: u64,
    pub completion_rate: f64,
    pub content_views: u64,
    pub top_tours: Vec<TopTour>,
    pub series: Vec<OverviewPoint>,
}

/// The `n` tours started most (ties by id): `(id, starts, completions)`.
pub fn busiest_tours(cells: &[Cell], n: usize) -> Vec<(String, u64, u64)> {
    let mut per_tour: HashMap<&str, (u64, u64)> = HashMap::new();
    for c in cells {
        let e = per_tour.entry(c.object_id.as_str()).or_default();
        match Kind::parse(&c.event) {
            Kind::TourStarted => e.0 += c.count,
            Kind::TourCompleted => e.1 += c.count,
            _ => {}
        }
    }
    let mut top: Vec<(String, u64, u64)> = per_tour
        .into_iter()
        .filter(|(id, (s, c))| !id.is_empty() && (*s > 0 || *c > 0))
        .map(|(id, (s, c))| (id.to_owned(), s, c))
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(n);
    top
}

/// What the overview reads besides the cells.
pub struct OverviewInput<'a> {
    pub window: Window,
    pub range: &'a Range,
    pub cells: &'a [Cell],
    /// Distinct users per day.
    pub daily_users: &'a HashMap<i64, u64>,
    pub active_users: u64,
    pub new_users: u64,
    /// [`busiest_tours`] with their names (tours since deleted left out).
    pub top_tours: Vec<(String, String, u64, u64)>,
}

pub fn overview(i: OverviewInput<'_>) -> Overview {
    let mut events_per: HashMap<i64, u64> = HashMap::new();
    for c in i.cells.iter().filter(|c| is_event(c)) {
        *events_per.entry(c.bucket).or_default() += c.count;
    }
    let daily = i.range.grain == Grain::Day;
    let series = series(i.range, i.cells, &[Kind::TourStarted, Kind::TourCompleted])
        .into_iter()
        .map(|(b, v)| OverviewPoint {
            bucket: Timestamp(b),
            events: events_per.get(&b).copied().unwrap_or(0),
            tour_starts: v[0],
            tour_completions: v[1],
            active_users: daily.then(|| i.daily_users.get(&b).copied().unwrap_or(0)),
        })
        .collect();
    let (starts, completions) = (
        total(i.cells, Kind::TourStarted),
        total(i.cells, Kind::TourCompleted),
    );
    Overview {
        window: i.window,
        active_users: i.active_users,
        new_users: i.new_users,
        events: i
            .cells
            .iter()
            .filter(|c| is_event(c))
            .map(|c| c.count)
            .sum(),
        tour_starts: starts,
        tour_completions: completions,
        completion_rate: rate(completions, starts),
        content_views: total(i.cells, Kind::ContentViewed),
        top_tours: i
            .top_tours
            .into_iter()
            .map(|(id, name, starts, completions)| TopTour {
                id,
                name,
                starts,
                completions,
                completion_rate: rate(completions, starts),
            })
            .collect(),
        series,
    }
}

// ---------------------------------------------------------------- tours

#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FunnelStep {
    pub step: i64,
    pub title: Option<String>,
    /// Times the step was shown (a person who went back to it counts again).
    pub views: u64,
    /// People who saw the step.
    pub viewers: u64,
    pub completions: u64,
    /// Share of the previous step's viewers (of the tour's viewers, for the
    /// first step) who did not see this one: counted per person, not per view.
    pub drop_off: f64,
}

impl CsvRows for FunnelStep {
    const HEADER: &'static [&'static str] = &[
        "step",
        "title",
        "views",
        "viewers",
        "completions",
        "drop_off",
    ];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.step.to_string(),
            self.title.clone().unwrap_or_default(),
            self.views.to_string(),
            self.viewers.to_string(),
            self.completions.to_string(),
            ratio(self.drop_off),
        ]]
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TourPoint {
    pub bucket: Timestamp,
    pub starts: u64,
    pub completions: u64,
    pub dismissals: u64,
}

impl CsvRows for TourPoint {
    const HEADER: &'static [&'static str] = &["bucket", "starts", "completions", "dismissals"];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.bucket.to_rfc3339(),
            self.starts.to_string(),
            self.completions.to_string(),
            self.dismissals.to_string(),
        ]]
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TourStats {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub window: Window,
    pub unique_viewers: u64,
    pub starts: u64,
    pub completions: u64,
    pub dismissals: u64,
    pub completion_rate: f64,
    pub median_time_to_complete_ms: Option<f64>,
    pub funnel: Vec<FunnelStep>,
    pub series: Vec<TourPoint>,
}

/// The steps a tour's funnel shows: each of its `steps`, and any other step
/// events name; per step `(views, completions)`.
pub fn step_counts(cells: &[Cell], steps: usize) -> BTreeMap<i64, (u64, u64)> {
    let mut views: BTreeMap<i64, (u64, u64)> = (0..steps).map(|i| (i as i64, (0, 0))).collect();
    for c in cells.iter().filter(|c| c.step >= 0) {
        let v = views.entry(c.step).or_default();
        match Kind::parse(&c.event) {
            Kind::StepViewed => v.0 += c.count,
            Kind::StepCompleted => v.1 += c.count,
            _ => {}
        }
    }
    views
}

/// The funnel: per step its views, viewers and completions, and the share of
/// the people who saw the step before (the tour, for the first) who did not
/// see this one.
pub fn funnel(
    steps: BTreeMap<i64, (u64, u64)>,
    tour_viewers: u64,
    step_viewers: impl Fn(i64) -> u64,
    title: impl Fn(i64) -> Option<String>,
) -> Vec<FunnelStep> {
    let mut previous = tour_viewers;
    steps
        .into_iter()
        .map(|(step, (views, completions))| {
            let people = step_viewers(step);
            let drop_off = if previous == 0 {
                0.0
            } else {
                1.0 - rate(people.min(previous), previous)
            };
            previous = people;
            FunnelStep {
                step,
                title: title(step),
                views,
                viewers: people,
                completions,
                drop_off,
            }
        })
        .collect()
}

/// What a tour's answer reads besides its funnel.
pub struct TourInput<'a> {
    pub id: String,
    pub name: String,
    pub window: Window,
    pub range: &'a Range,
    pub cells: &'a [Cell],
    pub unique_viewers: u64,
    /// Milliseconds from start to completion, per completion.
    pub completion_times: Vec<i64>,
    pub funnel: Vec<FunnelStep>,
}

pub fn tour(mut i: TourInput<'_>) -> TourStats {
    let kinds = [Kind::TourStarted, Kind::TourCompleted, Kind::TourDismissed];
    let series = series(i.range, i.cells, &kinds)
        .into_iter()
        .map(|(b, v)| TourPoint {
            bucket: Timestamp(b),
            starts: v[0],
            completions: v[1],
            dismissals: v[2],
        })
        .collect();
    let [starts, completions, dismissals] = kinds.map(|k| total(i.cells, k));
    TourStats {
        id: i.id,
        name: i.name,
        window: i.window,
        unique_viewers: i.unique_viewers,
        starts,
        completions,
        dismissals,
        completion_rate: rate(completions, starts),
        median_time_to_complete_ms: median(&mut i.completion_times),
        funnel: i.funnel,
        series,
    }
}

// ---------------------------------------------------------------- content

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContentPoint {
    pub bucket: Timestamp,
    pub views: u64,
    pub clicks: u64,
    pub dismissals: u64,
}

impl CsvRows for ContentPoint {
    const HEADER: &'static [&'static str] = &["bucket", "views", "clicks", "dismissals"];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.bucket.to_rfc3339(),
            self.views.to_string(),
            self.clicks.to_string(),
            self.dismissals.to_string(),
        ]]
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContentStats {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub window: Window,
    pub views: u64,
    pub unique_viewers: u64,
    pub clicks: u64,
    pub dismissals: u64,
    pub click_rate: f64,
    pub series: Vec<ContentPoint>,
}

pub fn content(
    (id, name): (String, String),
    window: Window,
    range: &Range,
    cells: &[Cell],
    unique_viewers: u64,
) -> ContentStats {
    let kinds = [
        Kind::ContentViewed,
        Kind::ContentClicked,
        Kind::ContentDismissed,
    ];
    let series = series(range, cells, &kinds)
        .into_iter()
        .map(|(b, v)| ContentPoint {
            bucket: Timestamp(b),
            views: v[0],
            clicks: v[1],
            dismissals: v[2],
        })
        .collect();
    let [views, clicks, dismissals] = kinds.map(|k| total(cells, k));
    ContentStats {
        id,
        name,
        window,
        views,
        unique_viewers,
        clicks,
        dismissals,
        click_rate: rate(clicks, views),
        series,
    }
}

// ---------------------------------------------------------------- checklists

#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ItemStats {
    pub id: String,
    pub title: String,
    pub completions: u64,
    pub completion_rate: f64,
}

impl CsvRows for ItemStats {
    const HEADER: &'static [&'static str] = &["item", "title", "completions", "completion_rate"];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.id.clone(),
            self.title.clone(),
            self.completions.to_string(),
            ratio(self.completion_rate),
        ]]
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChecklistStats {
    pub id: String,
    pub name: String,
    pub environment: String,
    /// Users with any progress on the checklist.
    pub users: u64,
    pub completed: u64,
    pub completion_rate: f64,
    pub items: Vec<ItemStats>,
}

/// From each user's progress (items done, whether the checklist is done) and
/// the checklist's items `(id, title)`.
pub fn checklist(
    (id, name): (String, String),
    environment: String,
    items: Vec<(String, String)>,
    progress: &[(Vec<String>, bool)],
) -> ChecklistStats {
    let users = progress.len() as u64;
    let completed = progress.iter().filter(|(_, done)| *done).count() as u64;
    let mut per_item: HashMap<&str, u64> = HashMap::new();
    for (done, _) in progress {
        for i in done {
            *per_item.entry(i.as_str()).or_default() += 1;
        }
    }
    let items = items
        .into_iter()
        .map(|(id, title)| {
            let n = per_item.get(id.as_str()).copied().unwrap_or(0);
            ItemStats {
                completions: n,
                completion_rate: rate(n, users),
                id,
                title,
            }
        })
        .collect();
    ChecklistStats {
        id,
        name,
        environment,
        users,
        completed,
        completion_rate: rate(completed, users),
        items,
    }
}

// ---------------------------------------------------------------- surveys

#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AnswerCount {
    pub answer: String,
    pub count: u64,
}

#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TextAnswer {
    pub at: Timestamp,
    pub user_id: String,
    pub text: String,
}

#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SurveyStep {
    pub step: i64,
    #[serde(rename = "type")]
    pub kind: Option<SurveyKind>,
    pub question: Option<String>,
    pub responses: u64,
    pub distribution: Vec<AnswerCount>,
    /// NPS surveys: % promoters − % detractors.
    pub nps: Option<f64>,
    /// Numeric answers (NPS, stars, scale): the mean.
    pub average: Option<f64>,
    /// Free-text answers, newest first (at most 100).
    pub texts: Vec<TextAnswer>,
}

/// A row per answer and count, then one per free-text answer.
impl CsvRows for SurveyStep {
    const HEADER: &'static [&'static str] = &["step", "answer", "count"];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        let step = self.step.to_string();
        let answers = self
            .distribution
            .iter()
            .map(|a| vec![step.clone(), a.answer.clone(), a.count.to_string()]);
        let texts = self
            .texts
            .iter()
            .map(|t| vec![step.clone(), t.text.clone(), "1".to_owned()]);
        answers.chain(texts).collect()
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SurveyStats {
    pub tour_id: String,
    pub name: String,
    #[serde(flatten)]
    pub window: Window,
    pub steps: Vec<SurveyStep>,
}

/// Per survey step, responses and counts per answer: every step the tour
/// asks in (`asked`), and any other step answers name.
pub fn survey_answers(
    cells: &[Cell],
    asked: impl IntoIterator<Item = i64>,
) -> BTreeMap<i64, (u64, BTreeMap<String, u64>)> {
    let mut by_step: BTreeMap<i64, (u64, BTreeMap<String, u64>)> =
        asked.into_iter().map(|s| (s, Default::default())).collect();
    for c in cells {
        if c.event == Kind::SurveyAnswered.as_str() {
            by_step.entry(c.step).or_default().0 += c.count;
        } else if c.event == SURVEY_ANSWER {
            let answers = &mut by_step.entry(c.step).or_default().1;
            *answers.entry(c.detail.clone()).or_default() += c.count;
        }
    }
    by_step
}

/// One step's figures: the distribution, and for numeric surveys the mean
/// (and NPS); `texts` are its free-text answers `(at, user, text)`.
pub fn survey_step(
    step: i64,
    survey: Option<Survey>,
    (responses, answers): (u64, BTreeMap<String, u64>),
    texts: Vec<(i64, String, String)>,
) -> SurveyStep {
    let kind = survey.as_ref().map(|x| x.kind);
    let choice = matches!(
        kind,
        Some(SurveyKind::SingleChoice | SurveyKind::MultipleChoice)
    );
    let numeric: Vec<(i64, u64)> = answers
        .iter()
        .filter_map(|(a, n)| Some((a.parse::<i64>().ok()?, *n)))
        .collect();
    let counted: u64 = numeric.iter().map(|(_, n)| n).sum();
    let average = (counted > 0 && !choice).then(|| {
        numeric
            .iter()
            .map(|(v, n)| *v as f64 * *n as f64)
            .sum::<f64>()
            / counted as f64
    });
    SurveyStep {
        step,
        kind,
        question: survey.map(|x| x.question),
        responses,
        nps: (kind == Some(SurveyKind::Nps))
            .then(|| nps(&numeric))
            .flatten(),
        average,
        distribution: answers
            .into_iter()
            .map(|(answer, count)| AnswerCount { answer, count })
            .collect(),
        texts: texts
            .into_iter()
            .map(|(at, user_id, text)| TextAnswer {
                at: Timestamp(at),
                user_id,
                text,
            })
            .collect(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SurveyResponse {
    pub at: Timestamp,
    pub event_id: String,
    pub user_id: String,
    pub step: Option<i64>,
    pub question: Option<String>,
    /// A number (NPS, stars, scale), a list of choices, or text.
    #[schema(value_type = serde_json::Value)]
    pub answer: serde_json::Value,
}

impl SurveyResponse {
    /// The answer in a `survey_answered` event's properties.
    pub fn answer_in(properties: &serde_json::Value) -> serde_json::Value {
        ["score", "choices", "text"]
            .iter()
            .find_map(|k| properties.get(*k).cloned())
            .unwrap_or_default()
    }
}

impl CsvRows for SurveyResponse {
    const HEADER: &'static [&'static str] = &["at", "user_id", "step", "question", "answer"];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.at.to_rfc3339(),
            self.user_id.clone(),
            self.step.map(|x| x.to_string()).unwrap_or_default(),
            self.question.clone().unwrap_or_default(),
            match &self.answer {
                serde_json::Value::String(t) => t.clone(),
                other => other.to_string(),
            },
        ]]
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SurveyResponses {
    pub items: Vec<SurveyResponse>,
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------- experiments

#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Lift {
    /// Conversion rate of this arm minus the control's.
    pub difference: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArmStats {
    pub arm: String,
    pub holdout: bool,
    pub exposed: u64,
    pub converted: u64,
    pub conversion_rate: f64,
    /// 95% Wilson interval of the conversion rate.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Against the control arm (95% interval), for the other arms.
    pub lift: Option<Lift>,
}

impl CsvRows for ArmStats {
    const HEADER: &'static [&'static str] = &[
        "arm",
        "holdout",
        "exposed",
        "converted",
        "conversion_rate",
        "ci_low",
        "ci_high",
    ];
    fn csv_rows(&self) -> Vec<Vec<String>> {
        vec![vec![
            self.arm.clone(),
            self.holdout.to_string(),
            self.exposed.to_string(),
            self.converted.to_string(),
            ratio(self.conversion_rate),
            ratio(self.ci_low),
            ratio(self.ci_high),
        ]]
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExperimentStats {
    pub object_id: String,
    pub kind: ObjectKind,
    pub name: String,
    pub goal_event: String,
    pub control: Option<String>,
    #[serde(flatten)]
    pub window: Window,
    pub arms: Vec<ArmStats>,
}

/// The arms: those the experiment declares, then any others events name; the
/// control is the arm named `control`, else the first hold-out, else the
/// first. `counted`: per arm, `(exposed, converted)`.
pub fn experiment_arms(
    experiment: Option<&Experiment>,
    counted: &HashMap<String, (u64, u64)>,
) -> (Option<String>, Vec<ArmStats>) {
    let mut arms: Vec<(String, bool)> = experiment
        .map(|x| x.arms.iter().map(|a| (a.name.clone(), a.holdout)).collect())
        .unwrap_or_default();
    let mut others: Vec<&String> = counted
        .keys()
        .filter(|arm| !arms.iter().any(|(a, _)| a == *arm))
        .collect();
    others.sort();
    arms.extend(others.into_iter().map(|a| (a.clone(), false)));
    let control = arms
        .iter()
        .find(|(a, _)| a == "control")
        .or_else(|| arms.iter().find(|(_, h)| *h))
        .or(arms.first())
        .map(|(a, _)| a.clone());
    let base = control
        .as_ref()
        .and_then(|c| counted.get(c))
        .map(|(e, c)| (*c, *e));
    let arms = arms
        .into_iter()
        .map(|(arm, holdout)| {
            let (exposed, converted) = counted.get(&arm).copied().unwrap_or((0, 0));
            let (ci_low, ci_high) = wilson(converted, exposed);
            let lift = (Some(&arm) != control.as_ref())
                .then(|| base.and_then(|b| difference(b, (converted, exposed))))
                .flatten()
                .map(|(difference, low, high)| Lift {
                    difference,
                    low,
                    high,
                });
            ArmStats {
                conversion_rate: rate(converted, exposed),
                arm,
                holdout,
                exposed,
                converted,
                ci_low,
                ci_high,
                lift,
            }
        })
        .collect();
    (control, arms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = 86_400_000;

    fn cell(bucket: i64, object: &str, step: i64, event: &str, count: u64) -> Cell {
        Cell {
            bucket,
            object_id: object.to_owned(),
            step,
            event: event.to_owned(),
            detail: String::new(),
            count,
        }
    }

    #[test]
    fn series_are_zero_filled_per_bucket() {
        let range = Range::new(0, 3 * D, Grain::Day).unwrap();
        let cells = [
            cell(D, "t", -1, "tour_started", 2),
            cell(D, "t", -1, "tour_completed", 1),
            cell(2 * D, "u", -1, "tour_started", 3),
        ];
        let s = series(&range, &cells, &[Kind::TourStarted, Kind::TourCompleted]);
        assert_eq!(
            s,
            vec![(0, vec![0, 0]), (D, vec![2, 1]), (2 * D, vec![3, 0])]
        );
        assert_eq!(total(&cells, Kind::TourStarted), 5);
    }

    #[test]
    fn the_busiest_tours_come_first_and_ties_go_by_id() {
        let cells = [
            cell(0, "b", -1, "tour_started", 2),
            cell(0, "a", -1, "tour_started", 2),
            cell(0, "c", -1, "tour_started", 5),
            cell(0, "c", -1, "tour_completed", 4),
            cell(0, "", -1, "tour_started", 9),
            cell(0, "d", -1, "content_viewed", 9),
        ];
        let top = busiest_tours(&cells, 2);
        assert_eq!(top, vec![("c".to_owned(), 5, 4), ("a".to_owned(), 2, 0)]);
    }

    #[test]
    fn the_overview_counts_events_not_derived_cells() {
        let range = Range::new(0, 2 * D, Grain::Day).unwrap();
        let cells = [
            cell(0, "t", -1, "tour_started", 4),
            cell(0, "t", -1, "tour_completed", 1),
            cell(D, "t", 2, "survey_answer#", 7),
        ];
        let daily = HashMap::from([(0, 3)]);
        let o = overview(OverviewInput {
            window: Window::new("production".into(), &range),
            range: &range,
            cells: &cells,
            daily_users: &daily,
            active_users: 3,
            new_users: 1,
            top_tours: vec![("t".into(), "Tour".into(), 4, 1)],
        });
        assert_eq!((o.events, o.tour_starts, o.tour_completions), (5, 4, 1));
        assert_eq!(o.completion_rate, 0.25);
        assert_eq!(o.series[0].active_users, Some(3));
        assert_eq!(o.series[1].active_users, Some(0));
        assert_eq!(o.series[1].events, 0);
        assert_eq!(o.top_tours[0].completion_rate, 0.25);
    }

    #[test]
    fn funnel_drop_off_is_per_person_from_the_step_before() {
        let cells = [
            cell(0, "t", 0, "step_viewed", 12),
            cell(0, "t", 0, "step_completed", 8),
            cell(0, "t", 1, "step_viewed", 6),
            cell(0, "t", 3, "step_viewed", 1),
        ];
        let steps = step_counts(&cells, 3);
        assert_eq!(steps.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        let people = HashMap::from([(0, 10), (1, 5), (2, 0), (3, 1)]);
        let f = funnel(steps, 20, |s| people[&s], |s| Some(format!("Step {s}")));
        let drops: Vec<f64> = f.iter().map(|s| s.drop_off).collect();
        // 20 → 10 → 5 → 0 → 1: half, half, all, and none (nobody before).
        assert_eq!(drops, vec![0.5, 0.5, 1.0, 0.0]);
        assert_eq!((f[0].views, f[0].viewers, f[0].completions), (12, 10, 8));
        assert_eq!(
            f[0].csv_rows()[0],
            ["0", "Step 0", "12", "10", "8", "0.5000"]
        );
    }

    #[test]
    fn checklist_rates_are_of_users_with_progress() {
        let progress = vec![
            (vec!["a".to_owned(), "b".to_owned()], true),
            (vec!["a".to_owned()], false),
            (vec![], false),
            (vec!["a".to_owned()], false),
        ];
        let items = vec![("a".into(), "A".into()), ("b".into(), "B".into())];
        let c = checklist(
            ("c".into(), "C".into()),
            "production".into(),
            items,
            &progress,
        );
        assert_eq!((c.users, c.completed, c.completion_rate), (4, 1, 0.25));
        assert_eq!(c.items[0].completion_rate, 0.75);
        assert_eq!(c.items[1].csv_rows()[0], ["b", "B", "1", "0.2500"]);
    }

    #[test]
    fn survey_steps_average_numbers_and_score_nps() {
        let mut cells = vec![cell(0, "t", 1, "survey_answered", 4)];
        for (answer, n) in [("10", 2), ("7", 1), ("3", 1)] {
            cells.push(Cell {
                detail: answer.to_owned(),
                ..cell(0, "t", 1, SURVEY_ANSWER, n)
            });
        }
        let by_step = survey_answers(&cells, [0, 1]);
        assert_eq!(by_step[&0], (0, BTreeMap::new()));
        let survey = Survey {
            kind: SurveyKind::Nps,
            question: "Recommend us?".into(),
            choices: vec![],
            min: None,
            max: None,
        };
        let texts = vec![(5, "u1".to_owned(), "=cmd".to_owned())];
        let step = survey_step(1, Some(survey), by_step[&1].clone(), texts);
        assert_eq!(step.responses, 4);
        assert_eq!(step.average, Some(7.5));
        // 2 promoters, 1 detractor of 4: 25.
        assert_eq!(step.nps, Some(25.0));
        let rows = step.csv_rows();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[3], ["1", "=cmd", "1"]);
        let choice = Survey {
            kind: SurveyKind::SingleChoice,
            ..step_survey()
        };
        let step = survey_step(1, Some(choice), by_step[&1].clone(), vec![]);
        assert_eq!((step.average, step.nps), (None, None));
    }

    fn step_survey() -> Survey {
        Survey {
            kind: SurveyKind::Nps,
            question: String::new(),
            choices: vec![],
            min: None,
            max: None,
        }
    }

    #[test]
    fn experiments_compare_each_arm_with_the_control() {
        let x: Experiment = serde_json::from_value(serde_json::json!({
            "arms": [
                {"name": "short", "weight": 1},
                {"name": "control", "weight": 1},
                {"name": "hold", "weight": 1, "holdout": true}
            ],
            "goal_event": "signed_up"
        }))
        .unwrap();
        let counted = HashMap::from([
            ("control".to_owned(), (100, 10)),
            ("short".to_owned(), (100, 20)),
            ("stray".to_owned(), (5, 1)),
        ]);
        let (control, arms) = experiment_arms(Some(&x), &counted);
        assert_eq!(control.as_deref(), Some("control"));
        let names: Vec<&str> = arms.iter().map(|a| a.arm.as_str()).collect();
        assert_eq!(names, ["short", "control", "hold", "stray"]);
        let lift = arms[0].lift.as_ref().unwrap();
        assert!((lift.difference - 0.1).abs() < 1e-9 && lift.low > 0.0);
        assert!(arms[1].lift.is_none(), "the control has no lift");
        assert!(arms[2].lift.is_none(), "no exposure, no interval");
        assert_eq!(arms[0].csv_rows()[0][4], "0.2000");
        // Without a declared control the first hold-out is the control.
        let (control, _) = experiment_arms(None, &counted);
        assert_eq!(control.as_deref(), Some("control"));
        let only = HashMap::from([("b".to_owned(), (1, 0)), ("a".to_owned(), (1, 1))]);
        assert_eq!(experiment_arms(None, &only).0.as_deref(), Some("a"));
    }
}
