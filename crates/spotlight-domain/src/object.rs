//! The kinds of authored object. Each has a typed document validated in this
//! crate; the store keeps them all with one draft/version/publication model.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Tour,
    Content,
    Checklist,
    Launcher,
    Theme,
    Audience,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Tour,
        ObjectKind::Content,
        ObjectKind::Checklist,
        ObjectKind::Launcher,
        ObjectKind::Theme,
        ObjectKind::Audience,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Tour => "tour",
            ObjectKind::Content => "content",
            ObjectKind::Checklist => "checklist",
            ObjectKind::Launcher => "launcher",
            ObjectKind::Theme => "theme",
            ObjectKind::Audience => "audience",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The admin API collection: `/v1/admin/{collection}`.
    pub fn collection(self) -> &'static str {
        match self {
            ObjectKind::Tour => "tours",
            ObjectKind::Content => "content",
            ObjectKind::Checklist => "checklists",
            ObjectKind::Launcher => "launchers",
            ObjectKind::Theme => "themes",
            ObjectKind::Audience => "audiences",
        }
    }
}

/// Draft (never published), published (in at least one environment), archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectStatus {
    Draft,
    Published,
    Archived,
}

impl ObjectStatus {
    pub fn parse(s: &str) -> Option<ObjectStatus> {
        match s {
            "draft" => Some(ObjectStatus::Draft),
            "published" => Some(ObjectStatus::Published),
            "archived" => Some(ObjectStatus::Archived),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStatus::Draft => "draft",
            ObjectStatus::Published => "published",
            ObjectStatus::Archived => "archived",
        }
    }
}

/// A typed authored document. The admin API serves every kind through the same
/// handlers: deserialise (unknown fields refused), validate (every problem with
/// its field path; rich text sanitised), store as JSON.
pub trait Document:
    serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
    const KIND: ObjectKind;
    fn name(&self) -> &str;
    fn set_name(&mut self, name: String);
    fn validate(&mut self) -> Result<(), crate::ValidationErrors>;
}

/// Implements [`Document`] for a type with a `name` field and an inherent
/// `validate(&mut self)`.
macro_rules! document {
    ($ty:ty, $kind:expr) => {
        impl $crate::object::Document for $ty {
            const KIND: $crate::object::ObjectKind = $kind;
            fn name(&self) -> &str {
                &self.name
            }
            fn set_name(&mut self, name: String) {
                self.name = name;
            }
            fn validate(&mut self) -> Result<(), $crate::validation::ValidationErrors> {
                <$ty>::validate(self)
            }
        }
    };
}
pub(crate) use document;
