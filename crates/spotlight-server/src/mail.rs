//! Mail Spotlight sends — invitations and sign-in alerts — over the
//! operator's SMTP server, by `lettre` (plain text, one recipient, a timeout).
//! Without `smtp_url` there is no mailer, and nothing is sent.

use crate::config::MailConfig;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(String);

impl Mailer {
    /// The mailer the configuration asks for, if any.
    pub fn from_config(config: &MailConfig) -> Result<Option<Mailer>, MailError> {
        let (Some(url), Some(from)) = (&config.smtp_url, &config.mail_from) else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|e| MailError(format!("smtp_url: {e}")))?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        let from = from
            .parse()
            .map_err(|e| MailError(format!("mail_from: {e}")))?;
        Ok(Some(Mailer { transport, from }))
    }

    /// Sends a plain-text mail to one address.
    #[tracing::instrument(name = "mail.send", skip_all, fields(otel.kind = "client"))]
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| MailError(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError(e.to_string()))
    }
}
