//! Spotlight's domain model: identifiers, validated values, keys, roles and origins.
//! Nothing here performs I/O; time and randomness come in as parameters so callers
//! (and tests) control them.

pub mod analytics;
pub mod audience;
pub mod audience_doc;
pub mod clock;
pub mod content;
pub mod delivery;
pub mod end_user;
pub mod events;
pub mod experiment;
pub mod ids;
pub mod keys;
pub mod names;
pub mod object;
pub mod origin;
pub mod page;
pub mod richtext;
pub mod role;
pub mod settings;
pub mod sso;
pub mod tour;
pub mod translations;
pub mod validation;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use ids::{
    AccountId, AuditId, DeliveryId, EnvironmentId, InvitationId, KeyId, ObjectId, PublishRequestId,
    SessionId, TenantId, WebhookId,
};
pub use keys::{KeyHash, KeyKind, KeyParseError, PlainKey};
pub use names::{Email, EnvironmentName, TenantName};
pub use object::{Document, ObjectKind, ObjectStatus};
pub use origin::{AllowedOrigin, OriginError};
pub use role::Role;
pub use validation::{FieldError, ValidationErrors};
