//! `spotlight demo`: the demo tenant's content (a tour, an announcement, a
//! checklist, a survey and a launcher, published to production) and the host
//! app at `/demo/` — a few pages with single-page navigation that load the SDK
//! the way a tenant would, under a strict CSP (no inline script or style).

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use spotlight_domain::content::{Checklist, Content, Launcher};
use spotlight_domain::object::Document;
use spotlight_domain::settings::{AdminDetection, TenantSettings};
use spotlight_domain::tour::Tour;
use spotlight_domain::{EnvironmentId, ObjectId, TenantId};
use spotlight_store::{AuditEntry, Store};

pub type DemoError = Box<dyn std::error::Error + Send + Sync>;

const DEMO_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' https:; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

fn audit(action: &str, kind: &str, id: ObjectId) -> AuditEntry {
    AuditEntry {
        actor: "spotlight demo".into(),
        action: action.into(),
        object_kind: kind.into(),
        object_id: id.to_string(),
        ..AuditEntry::default()
    }
}

async fn publish<D: Document>(
    store: &Store,
    tenant: TenantId,
    env: EnvironmentId,
    doc: Value,
) -> Result<ObjectId, DemoError> {
    let mut doc: D = serde_json::from_value(doc)?;
    doc.validate()
        .map_err(|e| format!("demo {:?}: {e:?}", D::KIND))?;
    let id = ObjectId::new_v7();
    let json = serde_json::to_string(&doc)?;
    let kind = format!("{:?}", D::KIND).to_lowercase();
    store
        .create_object(
            tenant,
            D::KIND,
            id,
            doc.name(),
            &json,
            audit("create", &kind, id),
        )
        .await?;
    store
        .publish(tenant, D::KIND, id, env, audit("publish", &kind, id))
        .await?;
    Ok(id)
}

/// Publishes the demo content to `env` (a new demo tenant's production).
pub async fn seed(store: &Store, tenant: TenantId, env: EnvironmentId) -> Result<(), DemoError> {
    let home = json!([{"match": "exact", "pattern": "/demo/"}]);
    let welcome = publish::<Tour>(store, tenant, env, json!({
        "name": "Welcome to Acme",
        "pages": home,
        "steps": [
            {"kind": "modal", "title": "Welcome to Acme Projects",
             "body": "<p>This is a <b>Spotlight</b> tour running in a demo app. Use <b>→</b>, <b>←</b> and <b>Esc</b>, or the buttons.</p>"},
            {"kind": "tooltip", "title": "Start here", "placement": "bottom",
             "body": "<p>Create your first project.</p>",
             "target": {"selectors": ["[data-testid=\"new-project\"]", "#new-project"], "text": "New project"}},
            {"kind": "highlight", "title": "Reports", "placement": "bottom",
             "body": "<p>Everything you measure lives here.</p>",
             "target": {"selectors": ["#nav-reports", "nav a[href=\"/demo/reports\"]"], "text": "Reports"}},
            {"kind": "tooltip", "title": "Find anything", "placement": "bottom-end",
             "body": "<p>Search projects, people and reports.</p>",
             "target": {"selectors": ["#search", "input[type=\"search\"]"]}}
        ]
    })).await?;
    publish::<Tour>(store, tenant, env, json!({
        "name": "Reports feedback",
        "pages": [{"match": "exact", "pattern": "/demo/reports"}],
        "steps": [
            {"kind": "survey", "title": "Quick question",
             "survey": {"type": "nps", "question": "How likely are you to recommend Acme reports to a colleague?"}},
            {"kind": "survey",
             "survey": {"type": "text", "question": "What would make reports more useful?"}}
        ]
    })).await?;
    publish::<Content>(store, tenant, env, json!({
        "name": "Demo banner", "type": "banner", "position": "bottom",
        "title": "Spotlight demo",
        "body": "<p>This page stands in for your app; everything Spotlight shows here comes from the server.</p>",
        "buttons": [{"action": "start_tour", "label": "Take the tour", "tour_id": welcome.to_string()}]
    })).await?;
    let checklist = publish::<Checklist>(
        store,
        tenant,
        env,
        json!({
            "name": "Get started", "title": "Get started",
            "items": [
                {"id": "tour", "title": "Take the welcome tour",
                 "completed_by": {"type": "tour", "tour_id": welcome.to_string()},
                 "action": {"type": "tour", "tour_id": welcome.to_string()}},
                {"id": "project", "title": "Create a project",
                 "completed_by": {"type": "event", "event": "project_created"},
                 "action": {"type": "link", "url": "/demo/projects"}},
                {"id": "reports", "title": "Open reports",
                 "completed_by": {"type": "click", "target": {"selectors": ["#nav-reports"]}}}
            ]
        }),
    )
    .await?;
    publish::<Launcher>(store, tenant, env, json!({
        "name": "Help", "type": "button", "label": "Help", "position": "bottom-left",
        "items": [
            {"type": "tour", "tour_id": welcome.to_string(), "label": "Welcome tour"},
            {"type": "checklist", "checklist_id": checklist.to_string(), "label": "Get started"},
            {"type": "link", "label": "API reference", "url": "/docs"}
        ]
    })).await?;
    // The demo app's "sign in as the demo admin" makes its user `demo-admin`,
    // an in-app admin: Spotlight's editor, and picking for the dashboard.
    let (settings, origins) = store.tenant_settings(tenant).await?;
    let mut settings: TenantSettings = serde_json::from_str(&settings)?;
    settings.admin_detection = AdminDetection::Table {
        user_ids: vec![DEMO_ADMIN.to_owned()],
    };
    let entry = AuditEntry {
        actor: "spotlight demo".into(),
        action: "settings.update".into(),
        object_kind: "settings".into(),
        object_id: tenant.to_string(),
        ..AuditEntry::default()
    };
    store
        .update_tenant_settings(tenant, &serde_json::to_string(&settings)?, &origins, entry)
        .await?;
    Ok(())
}

/// The demo app's admin user (see `assets/demo/app.js`).
pub const DEMO_ADMIN: &str = "demo-admin";

fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, DEMO_CSP),
            (header::CACHE_CONTROL, "no-cache"),
            // Like a tenant's app: opened by the dashboard ("Pick on page"), it
            // posts the picked element back to its opener, so the opener stays.
            (
                header::HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin-allow-popups",
            ),
        ],
        body.into(),
    )
        .into_response()
}

/// `/demo/` and every path under it (the app routes on the client).
pub async fn page(State(state): State<AppState>) -> Response {
    let Some(key) = state.demo.get() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let html = include_str!("../assets/demo/index.html").replace("{{KEY}}", key);
    asset("text/html; charset=utf-8", html)
}

pub async fn script(State(state): State<AppState>) -> Response {
    if state.demo.get().is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/demo/app.js"),
    )
}

pub async fn style(State(state): State<AppState>) -> Response {
    if state.demo.get().is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    asset(
        "text/css; charset=utf-8",
        include_str!("../assets/demo/app.css"),
    )
}
