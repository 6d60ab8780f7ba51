//! `/v1/admin/analytics/…`: the tenant overview, and per tour (funnel with
//! drop-off, completion rate, median time to complete), content, checklist,
//! survey (distributions, NPS, free text) and experiment (conversion per arm with
//! 95% intervals) — over `from`/`to` at hourly or daily grain, from rollups.
//! Every answer exports as CSV with `format=csv`. Needs the `viewer` role.
//! Each handler reads what its answer needs from the store and hands it to
//! `spotlight_domain::analytics::report`, which computes the answer.

use crate::auth::{AdminActor, ViewerRole};
use crate::error::{ApiError, ApiResult, AppPath, AppQuery};
use crate::routes::audit::csv_safe;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotlight_domain::analytics::report::{
    self, Cell, CsvRows, SurveyResponse, SurveyResponses, Window,
};
use spotlight_domain::analytics::Range;
use spotlight_domain::content::Checklist;
use spotlight_domain::events::{step_viewers_key, Grain};
use spotlight_domain::tour::Tour;
use spotlight_domain::{EnvironmentId, ObjectId, ObjectKind, TenantId, Timestamp};
use spotlight_store::Slice;
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
    /// One account's figures only (at daily grain): its members' progress and
    /// the events sent for it.
    account: Option<String>,
}

struct Scope {
    tenant: TenantId,
    env: EnvironmentId,
    env_name: String,
    account: Option<String>,
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
    if let Some(a) = &q.account {
        if grain == Grain::Hour {
            return Err(ApiError::field(
                "grain",
                "an account's figures are kept by day: use grain=day",
            ));
        }
        let known = spotlight_domain::end_user::check_account_id(a).is_ok()
            && state.store.account_state(tenant, env.id, a).await?.known;
        if !known {
            return Err(ApiError::field(
                "account",
                &format!("no such account in {env_name}"),
            ));
        }
    }
    Ok(Scope {
        tenant,
        env: env.id,
        env_name,
        account: q.account,
        range,
        csv,
        table: q.table,
    })
}

impl Scope {
    fn window(&self) -> Window {
        Window {
            account: self.account.clone(),
            ..Window::new(self.env_name.clone(), &self.range)
        }
    }

    /// What the store reads: the environment, or the one account.
    fn at(&self) -> Slice<'_> {
        Slice {
            tenant: self.tenant,
            env: self.env,
            account: self.account.as_deref(),
        }
    }

    async fn cells(&self, state: &AppState, object: Option<&str>) -> ApiResult<Vec<Cell>> {
        Ok(state
            .store
            .rollup_cells(
                self.at(),
                self.range.grain.as_str(),
                self.range.from,
                self.range.to,
                object,
            )
            .await?)
    }

    /// Distinct users over the range's days, of one object ("" for any).
    async fn distinct_users(&self, state: &AppState, object: &str) -> ApiResult<u64> {
        let (d0, d1) = self.range.days();
        Ok(state
            .store
            .distinct_users(self.at(), d0, d1, object)
            .await?)
    }
}

fn csv_response<R: CsvRows>(name: &str, rows: &[R]) -> ApiResult<Response> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(R::HEADER).map_err(ApiError::internal)?;
    for r in rows.iter().flat_map(CsvRows::csv_rows) {
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

async fn object(
    state: &AppState,
    tenant: TenantId,
    kind: ObjectKind,
    id: &str,
) -> ApiResult<spotlight_store::ObjectRecord> {
    let oid: ObjectId = id.parse().map_err(|_| ApiError::not_found())?;
    Ok(state.store.object(tenant, kind, oid).await?)
}

pub async fn overview(
    actor: AdminActor<ViewerRole>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<AnalyticsQuery>,
) -> ApiResult<Response> {
    let s = scope(&state, actor.tenant_id, q).await?;
    let cells = s.cells(&state, None).await?;
    let (d0, d1) = s.range.days();
    let daily_users: HashMap<i64, u64> = state
        .store
        .daily_users(s.at(), d0, d1, "")
        .await?
        .into_iter()
        .collect();
    let busiest = report::busiest_tours(&cells, 10);
    let ids: Vec<ObjectId> = busiest.iter().filter_map(|t| t.0.parse().ok()).collect();
    let names: HashMap<String, String> = state
        .store
        .objects_by_ids(s.tenant, ObjectKind::Tour, &ids)
        .await?
        .into_iter()
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    let top_tours = busiest
        .into_iter()
        .filter_map(|(id, starts, completions)| {
            Some((id.clone(), names.get(&id)?.clone(), starts, completions))
        })
        .collect();
    let overview = report::overview(report::OverviewInput {
        window: s.window(),
        range: &s.range,
        cells: &cells,
        daily_users: &daily_users,
        active_users: s.distinct_users(&state, "").await?,
        new_users: state
            .store
            .new_users(s.at(), s.range.from, s.range.to)
            .await?,
        top_tours,
    });
    if s.csv {
        return csv_response("overview", &overview.series);
    }
    Ok(axum::Json(overview).into_response())
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
    let viewers = s.distinct_users(&state, &id).await?;
    let steps = report::step_counts(&cells, doc.as_ref().map_or(0, |d| d.steps.len()));
    let keys: Vec<String> = steps.keys().map(|&n| step_viewers_key(&id, n)).collect();
    let (d0, d1) = s.range.days();
    let step_viewers: BTreeMap<String, u64> = state
        .store
        .distinct_users_of(s.at(), d0, d1, &keys)
        .await?
        .into_iter()
        .collect();
    let funnel = report::funnel(
        steps,
        viewers,
        |n| {
            let key = step_viewers_key(&id, n);
            step_viewers.get(&key).copied().unwrap_or(0)
        },
        |n| {
            let step = doc.as_ref()?.steps.get(usize::try_from(n).ok()?)?;
            Some(step.title.clone())
        },
    );
    let completion_times = state
        .store
        .completion_times(s.at(), &id, s.range.from, s.range.to)
        .await?;
    let stats = report::tour(report::TourInput {
        id: id.clone(),
        name: record.name,
        window: s.window(),
        range: &s.range,
        cells: &cells,
        unique_viewers: viewers,
        completion_times,
        funnel,
    });
    match (s.csv, s.table.as_deref()) {
        (true, Some("funnel")) => csv_response("tour-funnel", &stats.funnel),
        (true, _) => csv_response("tour", &stats.series),
        (false, _) => Ok(axum::Json(stats).into_response()),
    }
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
    let viewers = s.distinct_users(&state, &id).await?;
    let stats = report::content((id, record.name), s.window(), &s.range, &cells, viewers);
    if s.csv {
        return csv_response("content", &stats.series);
    }
    Ok(axum::Json(stats).into_response())
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
    let progress = state.store.checklist_progress(s.at(), &id).await?;
    let items = doc
        .map(|d| d.items)
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i.id, i.title))
        .collect();
    let stats = report::checklist((id, record.name), s.env_name.clone(), items, &progress);
    if s.csv {
        return csv_response("checklist", &stats.items);
    }
    Ok(axum::Json(stats).into_response())
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
    let survey = |n: i64| {
        let step = doc.as_ref()?.steps.get(usize::try_from(n).ok()?)?;
        step.survey.clone()
    };
    let asked = doc.iter().flat_map(|d| d.steps.iter().enumerate());
    let asked = asked
        .filter(|(_, st)| st.survey.is_some())
        .map(|(n, _)| n as i64);
    let cells = s.cells(&state, Some(&id)).await?;
    let mut steps = Vec::new();
    for (n, answers) in report::survey_answers(&cells, asked) {
        let texts = state
            .store
            .survey_texts(s.at(), &id, n, (s.range.from, s.range.to), 100)
            .await?;
        steps.push(report::survey_step(n, survey(n), answers, texts));
    }
    if s.csv {
        return csv_response("survey", &steps);
    }
    Ok(axum::Json(report::SurveyStats {
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
    /// One account's responses only.
    account: Option<String>,
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
            account: q.account,
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
                s.at(),
                &id,
                (s.range.from, s.range.to),
                before.clone(),
                limit,
            )
            .await?;
        let full = rows.len() == limit;
        for (at, event_id, user_id, step, props) in rows {
            let p: serde_json::Value = serde_json::from_str(&props).unwrap_or_default();
            before = Some((at, event_id.clone()));
            items.push(SurveyResponse {
                at: Timestamp(at),
                event_id,
                user_id,
                step,
                question: question(step),
                answer: SurveyResponse::answer_in(&p),
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
        return csv_response("survey-responses", &items);
    }
    Ok(axum::Json(SurveyResponses { items, next_cursor }).into_response())
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
        .experiment_arms(s.at(), &id, s.range.from, s.range.to)
        .await?
        .into_iter()
        .map(|(arm, e, c)| (arm, (e, c)))
        .collect();
    let (control, arms) = report::experiment_arms(experiment.as_ref(), &counted);
    if s.csv {
        return csv_response("experiment", &arms);
    }
    Ok(axum::Json(report::ExperimentStats {
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
