//! Routes, one file per area; each reads top to bottom: extractor, store, domain,
//! response.

pub mod admin_keys;
pub mod audit;
pub mod auth;
pub mod objects;
pub mod operator;
pub mod ops;
pub mod sdk;

use serde::{Deserialize, Serialize};

/// `?limit=&cursor=`: default 50, at most 100 whatever is asked.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 100;
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(Self::DEFAULT).clamp(1, Self::MAX)
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
