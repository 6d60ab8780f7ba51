//! `/v1/admin/analytics/…`: the tenant overview, and per tour (funnel with
//! drop-off, completion rate, median time to complete), content, checklist,
//! survey (distributions, NPS, free text) and experiment (conversion per arm with
//! 95% intervals) — over `from`/`to` at hourly or daily grain, from rollups.
//! Every answer exports as CSV with `format=csv`. Needs the `viewer` role.

use crate::auth::{AdminActor, ViewerRole};
use crate::error::{ApiError, ApiResult, AppPath, AppQuery};
use crate::routes::audit::csv_safe;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use spotlight_domain::analytics::{self as stats, Range};
use spotlight_domain::content::Checklist;
use spotlight_domain::events::{step_viewers_key, Grain, Kind, SURVEY_ANSWER};
use spotlight_domain::tour::{SurveyKind, Tour};
use spotlight_domain::{EnvironmentId, ObjectId, ObjectKind, TenantId, Timestamp};
use spotlight_store::Cell;
use std::collections::{BTreeMap, HashMap};

const DAY_MS: i64 = Timestamp::DAY_MS;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// Environment name (default production).
    #[param(example = "production")]
    environment: Option<String>,
    /// Start: RFC 3339, a date (YYYY-MM-DD, UTC) or Unix milliseconds. Default: 30 days
    /// before `to` (48 hours at hourly grain).
    from: Option<String>,
    /// End (exclusive), same forms. Default: now.
    to: Option<String>,
    /// `day` (default) or `hour`.
    grain: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// CSV of a tour: `series` (default) or `funnel`.
    table: Option<String>,
}

struct Scope {
    tenant: TenantId,
    env: EnvironmentId,
    env_name: String,
    range: Range,
    csv: bool,
    table: Option<String>,
}

/// 9999-12-31T23:59:59.999Z: analytics times lie between 1970 and this.
const LAST_INSTANT: i64 = 253_402_300_799_999;

fn instant(field: &str, s: &str) -> ApiResult<i64> {
    let ms = if let Ok(ms) = s.parse::<i64>() {
        Some(ms)
    } else if let Some(t) = Timestamp::parse_rfc3339(s) {
        Some(t.millis())
    } else {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(s, &format)
            .ok()
            .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
    };
    match ms {
        Some(ms) if (0..=LAST_INSTANT).contains(&ms) => Ok(ms),
        Some(_) => Err(ApiError::field(field, "must lie between 1970 and 9999")),
        None => Err(ApiError::field(
            field,
            "must be an RFC 3339 time, a date (YYYY-MM-DD) or Unix milliseconds",
        )),
    }
}

async fn scope(state: &AppState, tenant: TenantId, q: AnalyticsQuery) -> ApiResult<Scope> {
    let grain = match q.grain.as_deref() {
        None => Grain::Day,
        Some(g) => {
            Grain::parse(g).ok_or_else(|| ApiError::field("grain", "must be hour or day"))?
        }
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::field("format", "must be json or csv")),
    };
    let to = match &q.to {
        Some(s) => instant("to", s)?,
        None => state.clock.now().millis(),
    };
    let from = match &q.from {
        Some(s) => instant("from", s)?,
        None if grain == Grain::Hour => to.saturating_sub(2 * DAY_MS),
        None => to.saturating_sub(30 * DAY_MS),
    };
    let range = Range::new(from, to, grain).map_err(|m| ApiError::field("from", m))?;
    let env_name = q.environment.unwrap_or_else(|| "production".to_owned());
    let env = crate::routes::environment_named(state, tenant, &env_name, "environment").await?;
    Ok(Scope {
        tenant,
        env: env.id,
        env_name,
        range,
        csv,
        table: q.table,
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Window {
    environment: String,
    from: Timestamp,
    to: Timestamp,
    grain: Grain,
}

impl Scope {
    fn window(&self) -> Window {
        Window {
            environment: self.env_name.clone(),
            from: Timestamp(self.range.from),
            to: Timestamp(self.range.to),
            grain: self.range.grain,
        }
    }

    async fn cells(&self, state: &AppState, object: Option<&str>) -> ApiResult<Vec<Cell>> {
        Ok(state
            .store
            .rollup_cells(
                self.tenant,
                self.env,
                self.range.grain.as_str(),
                self.range.from,
                self.range.to,
                object,
            )
            .await?)
    }
}

fn csv_response(name: &str, header_row: &[&str], rows: Vec<Vec<String>>) -> ApiResult<Response> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header_row).map_err(ApiError::internal)?;
    for r in rows {
        w.write_record(r.iter().map(|f| csv_safe(f)))
            .map_err(ApiError::internal)?;
    }
    let body = w.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

fn sum(cells: &[Cell], event: Kind) -> u64 {
    cells
        .iter()
        .filter(|c| c.event == event.as_str())
        .map(|c| c.count)
        .sum()
}

/// Per bucket, the counts of `events` (zero-filled).
fn series(range: &Range, cells: &[Cell], events: &[Kind]) -> Vec<(i64, Vec<u64>)> {
    let mut by: HashMap<(i64, &str), u64> = HashMap::new();
    for c in cells {
        *by.entry((c.bucket, c.event.as_str())).or_default() += c.count;
    }
    range
        .buckets()
        .map(|b| {
            (
                b,
                events
                    .iter()
                    .map(|e| by.get(&(b, e.as_str())).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect()
}

async fn object(
    state: &AppState,
    tenant: TenantId,
    kind: ObjectKind,
    id: &str,
) -> ApiResult<spotlight_store::ObjectRecord> {
    let oid: ObjectId = id.parse().map_err(|_| ApiError::not_found())?;
    Ok(state.store.object(tenant, kind, oid).await?)
}

// ---------------------------------------------------------------- overview

#[derive(Serialize, utoipa::ToSchema)]
pub struct OverviewPoint {
    bucket: Timestamp,
    events: u64,
    tour_starts: u64,
    tour_completions: u64,
    /// Distinct users that day (daily grain only).
    active_users: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TopTour {
    id: String,
    name: String,
    starts: u64,
    completions: u64,
    completion_rate: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Overview {
    #[serde(flatten)]
    window: Window,
    active_users: u64,
    new_users: u64,
    events: u64,
    tour_starts: u64,
    tour_completions: u64,
    completion_rate: f64,
    content_views: u64,
    top_tours: Vec<TopTour>,
    series: Vec<OverviewPoint>,
}

pub async fn overview(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    let s = scope(&state, actor.tenant_id, q).await?;
    let cells = s.cells(&state, None).await?;
    let (d0, d1) = s.range.days();
    let active = state
        .store
        .distinct_users(s.tenant, s.env, d0, d1, "")
        .await?;
    let daily: HashMap<i64, u64> = state
        .store
        .daily_users(s.tenant, s.env, d0, d1, "")
        .await?
        .into_iter()
        .collect();
    let new_users = state
        .store
        .new_users(s.tenant, s.env, s.range.from, s.range.to)
        .await?;
    let mut per_tour: HashMap<&str, (u64, u64)> = HashMap::new();
    for c in &cells {
        let e = per_tour.entry(c.object_id.as_str()).or_default();
        match Kind::parse(&c.event) {
            Kind::TourStarted => e.0 += c.count,
            Kind::TourCompleted => e.1 += c.count,
            _ => {}
        }
    }
    let mut top: Vec<(&str, (u64, u64))> = per_tour
        .into_iter()
        .filter(|(id, (s, c))| !id.is_empty() && (*s > 0 || *c > 0))
        .collect();
    top.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    top.truncate(10);
    let ids: Vec<ObjectId> = top.iter().filter_map(|(id, _)| id.parse().ok()).collect();
    let names: HashMap<String, String> = state
        .store
        .objects_by_ids(s.tenant, ObjectKind::Tour, &ids)
        .await?
        .into_iter()
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    let top_tours = top
        .into_iter()
        .filter_map(|(id, (starts, completions))| {
            Some(TopTour {
                name: names.get(id)?.clone(),
                id: id.to_owned(),
                starts,
                completions,
                completion_rate: stats::rate(completions, starts),
            })
        })
        .collect();
    let total_events: u64 = cells
        .iter()
        .filter(|c| !c.event.contains('#'))
        .map(|c| c.count)
        .sum();
    let points = series(&s.range, &cells, &[Kind::TourStarted, Kind::TourCompleted]);
    let mut events_per: HashMap<i64, u64> = HashMap::new();
    for c in cells.iter().filter(|c| !c.event.contains('#')) {
        *events_per.entry(c.bucket).or_default() += c.count;
    }
    let series: Vec<OverviewPoint> = points
        .into_iter()
        .map(|(b, v)| OverviewPoint {
            bucket: Timestamp(b),
            events: events_per.get(&b).copied().unwrap_or(0),
            tour_starts: v[0],
            tour_completions: v[1],
            active_users: (s.range.grain == Grain::Day)
                .then(|| daily.get(&b).copied().unwrap_or(0)),
        })
        .collect();
    if s.csv {
        let rows = series
            .iter()
            .map(|p| {
                vec![
                    p.bucket.to_rfc3339(),
                    p.events.to_string(),
                    p.tour_starts.to_string(),
                    p.tour_completions.to_string(),
                    p.active_users.map(|n| n.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        return csv_response(
            "overview",
            &[
                "bucket",
                "events",
                "tour_starts",
                "tour_completions",
                "active_users",
            ],
            rows,
        );
    }
    let (starts, completions) = (
        sum(&cells, Kind::TourStarted),
        sum(&cells, Kind::TourCompleted),
    );
    Ok(axum::Json(Overview {
        window: s.window(),
        active_users: active,
        new_users,
        events: total_events,
        tour_starts: starts,
        tour_completions: completions,
        completion_rate: stats::rate(completions, starts),
        content_views: sum(&cells, Kind::ContentViewed),
        top_tours,
        series,
    })
    .into_response())
}

// ---------------------------------------------------------------- tours

#[derive(Serialize, utoipa::ToSchema)]
pub struct FunnelStep {
    step: i64,
    title: Option<String>,
    /// Times the step was shown (a person who went back to it counts again).
    views: u64,
    /// People who saw the step.
    viewers: u64,
    completions: u64,
    /// Share of the previous step's viewers (of the tour's viewers, for the
    /// first step) who did not see this one: counted per person, not per view.
    drop_off: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TourPoint {
    bucket: Timestamp,
    starts: u64,
    completions: u64,
    dismissals: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TourStats {
    id: String,
    name: String,
    #[serde(flatten)]
    window: Window,
    unique_viewers: u64,
    starts: u64,
    completions: u64,
    dismissals: u64,
    completion_rate: f64,
    median_time_to_complete_ms: Option<f64>,
    funnel: Vec<FunnelStep>,
    series: Vec<TourPoint>,
}

pub async fn tour(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    let record = object(&state, actor.tenant_id, ObjectKind::Tour, &id).await?;
    let s = scope(&state, actor.tenant_id, q).await?;
    let doc: Option<Tour> = serde_json::from_str(&record.draft).ok();
    let cells = s.cells(&state, Some(&id)).await?;
    let (d0, d1) = s.range.days();
    let viewers = state
        .store
        .distinct_users(s.tenant, s.env, d0, d1, &id)
        .await?;
    let mut times = state
        .store
        .completion_times(s.tenant, s.env, &id, s.range.from, s.range.to)
        .await?;
    let (starts, completions, dismissals) = (
        sum(&cells, Kind::TourStarted),
        sum(&cells, Kind::TourCompleted),
        sum(&cells, Kind::TourDismissed),
    );
    let mut views: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let steps = doc.as_ref().map_or(0, |d| d.steps.len());
    for i in 0..steps {
        views.insert(i as i64, (0, 0));
    }
    for c in cells.iter().filter(|c| c.step >= 0) {
        let v = views.entry(c.step).or_default();
        match Kind::parse(&c.event) {
            Kind::StepViewed => v.0 += c.count,
            Kind::StepCompleted => v.1 += c.count,
            _ => {}
        }
    }
    let keys: Vec<String> = views
        .keys()
        .map(|&step| step_viewers_key(&id, step))
        .collect();
    let step_viewers: BTreeMap<String, u64> = state
        .store
        .distinct_users_of(s.tenant, s.env, d0, d1, &keys)
        .await?
        .into_iter()
        .collect();
    let mut previous = viewers;
    let funnel: Vec<FunnelStep> = views
        .into_iter()
        .map(|(step, (viewed, done))| {
            let people = step_viewers
                .get(&step_viewers_key(&id, step))
                .copied()
                .unwrap_or(0);
            let drop_off = if previous == 0 {
                0.0
            } else {
                1.0 - stats::rate(people.min(previous), previous)
            };
            previous = people;
            FunnelStep {
                step,
                title: doc
                    .as_ref()
                    .and_then(|d| d.steps.get(usize::try_from(step).ok()?))
                    .map(|st| st.title.clone()),
                views: viewed,
                viewers: people,
                completions: done,
                drop_off,
            }
        })
        .collect();
    let series: Vec<TourPoint> = series(
        &s.range,
        &cells,
        &[Kind::TourStarted, Kind::TourCompleted, Kind::TourDismissed],
    )
    .into_iter()
    .map(|(b, v)| TourPoint {
        bucket: Timestamp(b),
        starts: v[0],
        completions: v[1],
        dismissals: v[2],
    })
    .collect();
    if s.csv {
        return if s.table.as_deref() == Some("funnel") {
            let rows = funnel
                .iter()
                .map(|f| {
                    vec![
                        f.step.to_string(),
                        f.title.clone().unwrap_or_default(),
                        f.views.to_string(),
                        f.viewers.to_string(),
                        f.completions.to_string(),
                        format!("{:.4}", f.drop_off),
                    ]
                })
                .collect();
            csv_response(
                "tour-funnel",
                &[
                    "step",
                    "title",
                    "views",
                    "viewers",
                    "completions",
                    "drop_off",
                ],
                rows,
            )
        } else {
            let rows = series
                .iter()
                .map(|p| {
                    vec![
                        p.bucket.to_rfc3339(),
                        p.starts.to_string(),
                        p.completions.to_string(),
                        p.dismissals.to_string(),
                    ]
                })
                .collect();
            csv_response(
                "tour",
                &["bucket", "starts", "completions", "dismissals"],
                rows,
            )
        };
    }
    Ok(axum::Json(TourStats {
        id,
        name: record.name,
        window: s.window(),
        unique_viewers: viewers,
        starts,
        completions,
        dismissals,
        completion_rate: stats::rate(completions, starts),
        median_time_to_complete_ms: stats::median(&mut times),
        funnel,
        series,
    })
    .into_response())
}

// ---------------------------------------------------------------- content

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContentPoint {
    bucket: Timestamp,
    views: u64,
    clicks: u64,
    dismissals: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContentStats {
    id: String,
    name: String,
    #[serde(flatten)]
    window: Window,
    views: u64,
    unique_viewers: u64,
    clicks: u64,
    dismissals: u64,
    click_rate: f64,
    series: Vec<ContentPoint>,
}

pub async fn content(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    let record = object(&state, actor.tenant_id, ObjectKind::Content, &id).await?;
    let s = scope(&state, actor.tenant_id, q).await?;
    let cells = s.cells(&state, Some(&id)).await?;
    let (d0, d1) = s.range.days();
    let viewers = state
        .store
        .distinct_users(s.tenant, s.env, d0, d1, &id)
        .await?;
    let series: Vec<ContentPoint> = series(
        &s.range,
        &cells,
        &[
            Kind::ContentViewed,
            Kind::ContentClicked,
            Kind::ContentDismissed,
        ],
    )
    .into_iter()
    .map(|(b, v)| ContentPoint {
        bucket: Timestamp(b),
        views: v[0],
        clicks: v[1],
        dismissals: v[2],
    })
    .collect();
    if s.csv {
        let rows = series
            .iter()
            .map(|p| {
                vec![
                    p.bucket.to_rfc3339(),
                    p.views.to_string(),
                    p.clicks.to_string(),
                    p.dismissals.to_string(),
                ]
            })
            .collect();
        return csv_response(
            "content",
            &["bucket", "views", "clicks", "dismissals"],
            rows,
        );
    }
    let (views, clicks) = (
        sum(&cells, Kind::ContentViewed),
        sum(&cells, Kind::ContentClicked),
    );
    Ok(axum::Json(ContentStats {
        id,
        name: record.name,
        window: s.window(),
        views,
        unique_viewers: viewers,
        clicks,
        dismissals: sum(&cells, Kind::ContentDismissed),
        click_rate: stats::rate(clicks, views),
        series,
    })
    .into_response())
}

// ---------------------------------------------------------------- checklists

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemStats {
    id: String,
    title: String,
    completions: u64,
    completion_rate: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChecklistStats {
    id: String,
    name: String,
    environment: String,
    /// Users with any progress on the checklist.
    users: u64,
    completed: u64,
    completion_rate: f64,
    items: Vec<ItemStats>,
}

pub async fn checklist(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    let record = object(&state, actor.tenant_id, ObjectKind::Checklist, &id).await?;
    let s = scope(&state, actor.tenant_id, q).await?;
    let doc: Option<Checklist> = serde_json::from_str(&record.draft).ok();
    let progress = state.store.checklist_progress(s.tenant, s.env, &id).await?;
    let users = progress.len() as u64;
    let completed = progress.iter().filter(|(_, done)| *done).count() as u64;
    let mut per_item: HashMap<&str, u64> = HashMap::new();
    for (items, _) in &progress {
        for i in items {
            *per_item.entry(i.as_str()).or_default() += 1;
        }
    }
    let items: Vec<ItemStats> = doc
        .map(|d| d.items)
        .unwrap_or_default()
        .into_iter()
        .map(|i| {
            let n = per_item.get(i.id.as_str()).copied().unwrap_or(0);
            ItemStats {
                completions: n,
                completion_rate: stats::rate(n, users),
                id: i.id,
                title: i.title,
            }
        })
        .collect();
    if s.csv {
        let rows = items
            .iter()
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.title.clone(),
                    i.completions.to_string(),
                    format!("{:.4}", i.completion_rate),
                ]
            })
            .collect();
        return csv_response(
            "checklist",
            &["item", "title", "completions", "completion_rate"],
            rows,
        );
    }
    Ok(axum::Json(ChecklistStats {
        id,
        name: record.name,
        environment: s.env_name,
        users,
        completed,
        completion_rate: stats::rate(completed, users),
        items,
    })
    .into_response())
}

// ---------------------------------------------------------------- surveys

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerCount {
    answer: String,
    count: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TextAnswer {
    at: Timestamp,
    user_id: String,
    text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyStep {
    step: i64,
    #[serde(rename = "type")]
    kind: Option<SurveyKind>,
    question: Option<String>,
    responses: u64,
    distribution: Vec<AnswerCount>,
    /// NPS surveys: % promoters − % detractors.
    nps: Option<f64>,
    /// Numeric answers (NPS, stars, scale): the mean.
    average: Option<f64>,
    /// Free-text answers, newest first (at most 100).
    texts: Vec<TextAnswer>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyStats {
    tour_id: String,
    name: String,
    #[serde(flatten)]
    window: Window,
    steps: Vec<SurveyStep>,
}

pub async fn survey(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    let record = object(&state, actor.tenant_id, ObjectKind::Tour, &id).await?;
    let s = scope(&state, actor.tenant_id, q).await?;
    let doc: Option<Tour> = serde_json::from_str(&record.draft).ok();
    let cells = s.cells(&state, Some(&id)).await?;
    // Per survey step: responses, and counts per answer.
    let mut by_step: BTreeMap<i64, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    if let Some(d) = &doc {
        for (i, st) in d.steps.iter().enumerate() {
            if st.survey.is_some() {
                by_step.entry(i as i64).or_default();
            }
        }
    }
    for c in &cells {
        if c.event == Kind::SurveyAnswered.as_str() {
            by_step.entry(c.step).or_default().0 += c.count;
        } else if c.event == SURVEY_ANSWER {
            *by_step
                .entry(c.step)
                .or_default()
                .1
                .entry(c.detail.clone())
                .or_default() += c.count;
        }
    }
    let mut steps = Vec::new();
    for (step, (responses, answers)) in by_step {
        let survey = doc
            .as_ref()
            .and_then(|d| d.steps.get(usize::try_from(step).ok()?))
            .and_then(|st| st.survey.clone());
        let kind = survey.as_ref().map(|x| x.kind);
        let texts = state
            .store
            .survey_texts(s.tenant, s.env, &id, step, (s.range.from, s.range.to), 100)
            .await?;
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
        steps.push(SurveyStep {
            step,
            kind,
            question: survey.map(|x| x.question),
            responses,
            nps: (kind == Some(SurveyKind::Nps))
                .then(|| stats::nps(&numeric))
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
        });
    }
    if s.csv {
        let mut rows = Vec::new();
        for st in &steps {
            for a in &st.distribution {
                rows.push(vec![
                    st.step.to_string(),
                    a.answer.clone(),
                    a.count.to_string(),
                ]);
            }
            for t in &st.texts {
                rows.push(vec![st.step.to_string(), t.text.clone(), "1".into()]);
            }
        }
        return csv_response("survey", &["step", "answer", "count"], rows);
    }
    Ok(axum::Json(SurveyStats {
        tour_id: id,
        name: record.name,
        window: s.window(),
        steps,
    })
    .into_response())
}

/// `?environment=&from=&to=&limit=&cursor=&format=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResponsesQuery {
    /// Environment name (default production).
    #[param(example = "production")]
    environment: Option<String>,
    /// Start: RFC 3339, YYYY-MM-DD (UTC) or Unix milliseconds (default 30 days before `to`).
    from: Option<String>,
    /// End, exclusive (default now).
    to: Option<String>,
    /// Page size (default 50, at most 100).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `json` (default) or `csv` (every response in the range, up to 100,000).
    format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyResponse {
    at: Timestamp,
    event_id: String,
    user_id: String,
    step: Option<i64>,
    question: Option<String>,
    /// A number (NPS, stars, scale), a list of choices, or text.
    #[schema(value_type = serde_json::Value)]
    answer: serde_json::Value,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyResponses {
    items: Vec<SurveyResponse>,
    next_cursor: Option<String>,
}

/// `GET /v1/admin/analytics/surveys/{id}/responses`: every answer, newest first.
pub async fn survey_responses(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<ResponsesQuery>,
) -> ApiResult<Response> {
    let record = object(&state, actor.tenant_id, ObjectKind::Tour, &id).await?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::field("format", "must be json or csv")),
    };
    let s = scope(
        &state,
        actor.tenant_id,
        AnalyticsQuery {
            environment: q.environment,
            from: q.from,
            to: q.to,
            ..AnalyticsQuery::default()
        },
    )
    .await?;
    let mut before = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let bad = || ApiError::field("cursor", "not a cursor from this list");
            let (at, event) = c.split_once('.').ok_or_else(bad)?;
            Some((at.parse::<i64>().map_err(|_| bad())?, event.to_owned()))
        }
    };
    let doc: Option<Tour> = serde_json::from_str(&record.draft).ok();
    let question = |step: Option<i64>| {
        let st = doc.as_ref()?.steps.get(usize::try_from(step?).ok()?)?;
        st.survey.as_ref().map(|x| x.question.clone())
    };
    let limit = if csv {
        100
    } else {
        q.limit.unwrap_or(50).clamp(1, 100) as usize
    };
    let mut items = Vec::new();
    let mut next_cursor = None;
    loop {
        let rows = state
            .store
            .survey_responses(
                s.tenant,
                s.env,
                &id,
                (s.range.from, s.range.to),
                before.clone(),
                limit,
            )
            .await?;
        let full = rows.len() == limit;
        for (at, event_id, user_id, step, props) in rows {
            let p: serde_json::Value = serde_json::from_str(&props).unwrap_or_default();
            let answer = ["score", "choices", "text"]
                .iter()
                .find_map(|k| p.get(*k).cloned())
                .unwrap_or_default();
            before = Some((at, event_id.clone()));
            items.push(SurveyResponse {
                at: Timestamp(at),
                event_id,
                user_id,
                step,
                question: question(step),
                answer,
            });
        }
        if !full {
            break;
        }
        if !csv {
            next_cursor = before.as_ref().map(|(at, e)| format!("{at}.{e}"));
            break;
        }
        if items.len() >= 100_000 {
            break;
        }
    }
    if csv {
        let rows = items
            .into_iter()
            .map(|r| {
                vec![
                    r.at.to_rfc3339(),
                    r.user_id,
                    r.step.map(|x| x.to_string()).unwrap_or_default(),
                    r.question.unwrap_or_default(),
                    match r.answer {
                        serde_json::Value::String(t) => t,
                        other => other.to_string(),
                    },
                ]
            })
            .collect();
        return csv_response(
            "survey-responses",
            &["at", "user_id", "step", "question", "answer"],
            rows,
        );
    }
    Ok(axum::Json(SurveyResponses { items, next_cursor }).into_response())
}

// ---------------------------------------------------------------- experiments

#[derive(Serialize, utoipa::ToSchema)]
pub struct Lift {
    /// Conversion rate of this arm minus the control's.
    difference: f64,
    low: f64,
    high: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ArmStats {
    arm: String,
    holdout: bool,
    exposed: u64,
    converted: u64,
    conversion_rate: f64,
    /// 95% Wilson interval of the conversion rate.
    ci_low: f64,
    ci_high: f64,
    /// Against the control arm (95% interval), for the other arms.
    lift: Option<Lift>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExperimentStats {
    object_id: String,
    kind: ObjectKind,
    name: String,
    goal_event: String,
    control: Option<String>,
    #[serde(flatten)]
    window: Window,
    arms: Vec<ArmStats>,
}

pub async fn experiment(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    let oid: ObjectId = id.parse().map_err(|_| ApiError::not_found())?;
    let record = match state
        .store
        .object(actor.tenant_id, ObjectKind::Tour, oid)
        .await
    {
        Ok(r) => r,
        Err(spotlight_store::StoreError::NotFound) => {
            state
                .store
                .object(actor.tenant_id, ObjectKind::Content, oid)
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let experiment = match record.kind {
        ObjectKind::Tour => serde_json::from_str::<Tour>(&record.draft)
            .ok()
            .and_then(|t| t.experiment),
        _ => serde_json::from_str::<spotlight_domain::content::Content>(&record.draft)
            .ok()
            .and_then(|c| c.experiment),
    };
    let s = scope(&state, actor.tenant_id, q).await?;
    let counted: HashMap<String, (u64, u64)> = state
        .store
        .experiment_arms(s.tenant, s.env, &id, s.range.from, s.range.to)
        .await?
        .into_iter()
        .map(|(arm, e, c)| (arm, (e, c)))
        .collect();
    let mut arms: Vec<(String, bool)> = experiment
        .as_ref()
        .map(|x| x.arms.iter().map(|a| (a.name.clone(), a.holdout)).collect())
        .unwrap_or_default();
    for arm in counted.keys() {
        if !arms.iter().any(|(a, _)| a == arm) {
            arms.push((arm.clone(), false));
        }
    }
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
    let arms: Vec<ArmStats> = arms
        .into_iter()
        .map(|(arm, holdout)| {
            let (exposed, converted) = counted.get(&arm).copied().unwrap_or((0, 0));
            let (ci_low, ci_high) = stats::wilson(converted, exposed);
            let lift = (Some(&arm) != control.as_ref())
                .then(|| base.and_then(|b| stats::difference(b, (converted, exposed))))
                .flatten()
                .map(|(difference, low, high)| Lift {
                    difference,
                    low,
                    high,
                });
            ArmStats {
                conversion_rate: stats::rate(converted, exposed),
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
    if s.csv {
        let rows = arms
            .iter()
            .map(|a| {
                vec![
                    a.arm.clone(),
                    a.holdout.to_string(),
                    a.exposed.to_string(),
                    a.converted.to_string(),
                    format!("{:.4}", a.conversion_rate),
                    format!("{:.4}", a.ci_low),
                    format!("{:.4}", a.ci_high),
                ]
            })
            .collect();
        return csv_response(
            "experiment",
            &[
                "arm",
                "holdout",
                "exposed",
                "converted",
                "conversion_rate",
                "ci_low",
                "ci_high",
            ],
            rows,
        );
    }
    Ok(axum::Json(ExperimentStats {
        object_id: id,
        kind: record.kind,
        name: record.name,
        goal_event: experiment.map(|x| x.goal_event).unwrap_or_default(),
        control,
        window: s.window(),
        arms,
    })
    .into_response())
}
