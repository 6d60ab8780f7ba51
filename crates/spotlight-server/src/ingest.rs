//! Group commit for event ingest. Requests hand their validated batch to a queue
//! and wait; writer tasks take everything queued (up to a bound) and store it in
//! one transaction, then answer each request. Under load one commit — and on
//! SQLite one fsync — serves many requests; alone, a request commits at once.

use crate::metrics::Metrics;
use spotlight_store::{IngestBatch, Ingested, Store, StoreError};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, Mutex};
use tracing::Instrument;

/// Events one commit takes at most.
const MAX_GROUP_EVENTS: usize = 4_000;
/// Requests waiting at most; past this a request is told to come back (503).
const QUEUE: usize = 4_096;

struct Job {
    batch: IngestBatch,
    reply: oneshot::Sender<Answer>,
    /// The submitting request's span: the commit links to each it serves.
    from: tracing::Span,
}

/// The outcome, and the batch back: its requester frees it, off the writer's path.
type Answer = (Result<Ingested, String>, IngestBatch);

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the ingest queue is full")]
    Busy,
    #[error("the store refused the batch: {0}")]
    Store(String),
}

#[derive(Clone)]
pub struct Ingestor {
    queue: mpsc::Sender<Job>,
}

/// Wakes the relay when a commit queued deliveries.
pub type Wake = Arc<tokio::sync::Notify>;

impl Ingestor {
    /// The queue, and its writers (started with the server's other background
    /// tasks; they stop when the ingestor is dropped).
    pub fn new(store: Store, metrics: Arc<Metrics>, wake: Wake) -> (Ingestor, Writers) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let writers = Writers {
            store,
            rx: Arc::new(Mutex::new(rx)),
            metrics,
            wake,
        };
        (Ingestor { queue }, writers)
    }

    /// Stores one batch; returns once it is committed.
    pub async fn submit(&self, batch: IngestBatch) -> Result<Ingested, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job {
                batch,
                reply,
                from: tracing::Span::current(),
            })
            .map_err(|_| IngestError::Busy)?;
        match answer.await {
            Ok((r, batch)) => {
                drop(batch);
                r.map_err(IngestError::Store)
            }
            Err(_) => Err(IngestError::Store("the writer stopped".into())),
        }
    }
}

/// What the group-commit writers share: the queue's receiving end.
pub struct Writers {
    store: Store,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    metrics: Arc<Metrics>,
    wake: Wake,
}

impl Writers {
    /// Starts `count` writers (one for SQLite, which has one writer). Each runs
    /// on a thread of its own, driven by the runtime's I/O and timers: woken by the
    /// database, a writer goes on at once instead of queueing behind the HTTP
    /// tasks, and the commit cycle — which every waiting request shares — stays short.
    pub fn start(self, count: usize) {
        let runtime = tokio::runtime::Handle::current();
        let task = || {
            let w = &self;
            writer(
                w.store.clone(),
                w.rx.clone(),
                w.metrics.clone(),
                w.wake.clone(),
            )
        };
        for n in 0..count.max(1) {
            let (runtime, task_on_thread) = (runtime.clone(), task());
            let started = std::thread::Builder::new()
                .name(format!("spotlight-ingest-{n}"))
                .spawn(move || runtime.block_on(task_on_thread));
            if let Err(e) = started {
                // No thread to spare: the runtime's own workers do it.
                tracing::warn!(error = %e, "ingest writer thread not started; running it as a task");
                tokio::spawn(task());
            }
        }
    }
}

async fn writer(
    store: Store,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    metrics: Arc<Metrics>,
    wake: Wake,
) {
    loop {
        let mut jobs = Vec::new();
        {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut events = first.batch.events.len();
            jobs.push(first);
            while events < MAX_GROUP_EVENTS {
                match rx.try_recv() {
                    Ok(job) => {
                        events += job.batch.events.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
        }
        let span = commit_span(&jobs);
        let (batches, replies): (Vec<_>, Vec<_>) =
            jobs.into_iter().map(|j| (j.batch, j.reply)).unzip();
        let events: usize = batches.iter().map(|b| b.events.len()).sum();
        span.record("events", events);
        let has_sinks = batches.iter().any(|b| !b.sinks.is_empty());
        let started = Instant::now();
        let result = store.ingest(&batches).instrument(span.clone()).await;
        metrics
            .ingest_commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.ingest_group_events.observe(events as f64);
        match result {
            Ok(outcomes) => {
                if has_sinks {
                    wake.notify_one();
                }
                for ((reply, outcome), batch) in replies.into_iter().zip(outcomes).zip(batches) {
                    let _ = reply.send((Ok(outcome), batch));
                }
            }
            Err(e) if batches.len() > 1 => {
                // One bad batch must not sink the others: commit each alone.
                tracing::warn!(error = %e, batches = batches.len(), "group commit failed; retrying batches one by one");
                for (batch, reply) in batches.into_iter().zip(replies) {
                    let r = store
                        .ingest(std::slice::from_ref(&batch))
                        .instrument(span.clone())
                        .await
                        .map(|mut o| o.pop().unwrap_or_default());
                    let _ = reply.send((r.map_err(|e| describe(&e)), batch));
                }
            }
            Err(e) => {
                span.record("otel.status_code", "error");
                tracing::error!(parent: &span, error = %e, "event batch not stored");
                for (reply, batch) in replies.into_iter().zip(batches) {
                    let _ = reply.send((Err(describe(&e)), batch));
                }
            }
        }
    }
}

/// One group commit: a root span of its own, linked to each request it serves
/// (one commit serves many traces).
fn commit_span(jobs: &[Job]) -> tracing::Span {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::info_span!(
        parent: None,
        "ingest.commit",
        requests = jobs.len(),
        events = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    for job in jobs {
        let cx = job.from.context();
        let from = cx.span().span_context().clone();
        if from.is_valid() {
            span.add_link(from);
        }
    }
    span
}

fn describe(e: &StoreError) -> String {
    e.to_string()
}
