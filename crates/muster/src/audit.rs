//! The audit log's write path. Events are queued and written by one background task in
//! batches (one transaction per batch), so a SCIM write costs a channel send, not a second
//! commit. `flush` waits until everything queued so far is stored (the CLI and tests use it;
//! shutdown calls it).

use muster_domain::admin::model::AuditEvent;
use muster_domain::admin::service::AuditSink;
use muster_domain::store::Store;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Events per batch at most.
const BATCH: usize = 512;
/// How long a batch waits for more events (unless someone flushes).
const LINGER: std::time::Duration = std::time::Duration::from_millis(25);

enum Msg {
    Event(Box<AuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// How often old events are purged.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes events older than `days` (none when 0), now and every [`PURGE_EVERY`].
pub fn start_retention(store: Arc<dyn Store>, days: u32) {
    if days == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tick.tick().await;
            let cutoff = muster_scim::resource::format_datetime(
                time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)),
            );
            match store.purge_audit(&cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, days, "purged old audit events"),
                Err(e) => tracing::warn!(error = %e, "could not purge old audit events"),
            }
        }
    });
}

/// Batches audit events into the store.
pub struct AuditWriter {
    tx: mpsc::UnboundedSender<Msg>,
}

impl AuditWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> Arc<AuditWriter> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        tokio::spawn(async move {
            let mut batch: Vec<AuditEvent> = Vec::with_capacity(BATCH);
            let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
            while let Some(first) = rx.recv().await {
                // Events that arrive within LINGER of the first share its transaction: under
                // load that is one commit per LINGER instead of one per few events.
                let deadline = tokio::time::Instant::now() + LINGER;
                let mut next = Some(first);
                while let Some(msg) = next.take() {
                    match msg {
                        Msg::Event(e) => batch.push(*e),
                        Msg::Flush(w) => waiters.push(w),
                    }
                    if batch.len() >= BATCH || !waiters.is_empty() {
                        break;
                    }
                    next = tokio::time::timeout_at(deadline, rx.recv())
                        .await
                        .unwrap_or_default();
                }
                if !batch.is_empty() {
                    // Retried once: losing audit events to a passing lock timeout is worse
                    // than a short delay.
                    let mut result = store.append_audit(&batch).await;
                    if result.is_err() {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        result = store.append_audit(&batch).await;
                    }
                    if let Err(e) = result {
                        tracing::error!(error = %e, events = batch.len(), "could not write audit events");
                    }
                    batch.clear();
                }
                for w in waiters.drain(..) {
                    let _ = w.send(());
                }
            }
        });
        Arc::new(AuditWriter { tx })
    }

    /// Waits until every event recorded before this call is stored.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

impl AuditSink for AuditWriter {
    fn record(&self, event: AuditEvent) {
        let _ = self.tx.send(Msg::Event(Box::new(event)));
    }
}
