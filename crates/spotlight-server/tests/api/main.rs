//! The server's integration suite: one binary, the real server on a random port,
//! every test against a fresh SQLite file and a fresh PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod identity;
mod oidc_provider;

mod account_activity;
mod accounts;
mod analytics;
mod approvals;
mod assets;
mod auth;
mod dashboard_api;
mod delivery;
mod errors;
mod events;
mod hardening;
mod import;
mod keys;
mod mail;
mod matrix;
mod objects;
mod openapi;
mod operator;
mod ops;
mod pipeline;
mod privacy;
mod relay;
mod sdk;
mod settings;
mod sso;
mod translations;
mod two_factor;
