//! The audit log's write path. Events are queued and written by one background task in
//! batches (one transaction per batch), so a SCIM write costs a channel send, not a second
//! commit. `flush` waits until everything queued so far is stored (the CLI and tests use it;
//! shutdown calls it).

use muster_domain::admin::model::AuditEvent;
use muster_domain::admin::service::AuditSink;
use muster_domain::store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Notify, mpsc, oneshot};

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
    shared: Arc<Shared>,
}

/// What the senders and the writer task share besides the channel.
#[derive(Default)]
struct Shared {
    /// Events sent and not yet taken by the writer task.
    queued: AtomicUsize,
    /// Ends the writer's linger early: a batch is full, or someone waits in `flush`.
    hurry: Notify,
}

/// Messages taken from the channel per wake at most (a few batches).
const DRAIN: usize = 8 * BATCH;

impl AuditWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> Arc<AuditWriter> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        let shared = Arc::new(Shared::default());
        let task_shared = shared.clone();
        tokio::spawn(async move {
            let shared = task_shared;
            let mut msgs: Vec<Msg> = Vec::with_capacity(DRAIN);
            let mut batch: Vec<AuditEvent> = Vec::with_capacity(DRAIN);
            let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
            let mut behind = false;
            while let Some(first) = rx.recv().await {
                msgs.push(first);
                // Events that arrive within LINGER of the first share its transaction. The
                // task sleeps through the linger instead of taking each event as it comes:
                // under load, a wake and a new timer per event cost the serving threads more
                // than the writing. Senders cut it short for a full batch or a flush.
                if !behind && !matches!(msgs[0], Msg::Flush(_)) {
                    tokio::select! {
                        _ = tokio::time::sleep(LINGER) => {}
                        _ = shared.hurry.notified() => {}
                    }
                }
                while msgs.len() < DRAIN {
                    match rx.try_recv() {
                        Ok(msg) => msgs.push(msg),
                        Err(_) => break,
                    }
                }
                behind = msgs.len() >= DRAIN;
                let mut events = 0;
                for msg in msgs.drain(..) {
                    match msg {
                        Msg::Event(e) => {
                            events += 1;
                            batch.push(*e);
                        }
                        Msg::Flush(w) => waiters.push(w),
                    }
                }
                shared.queued.fetch_sub(events, Ordering::Relaxed);
                for chunk in batch.chunks(BATCH) {
                    // Retried once: losing audit events to a passing lock timeout is worse
                    // than a short delay.
                    let mut result = store.append_audit(chunk).await;
                    if result.is_err() {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        result = store.append_audit(chunk).await;
                    }
                    if let Err(e) = result {
                        tracing::error!(error = %e, events = chunk.len(), "could not write audit events");
                    }
                }
                batch.clear();
                for w in waiters.drain(..) {
                    let _ = w.send(());
                }
            }
        });
        Arc::new(AuditWriter { tx, shared })
    }

    /// Waits until every event recorded before this call is stored.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            self.shared.hurry.notify_one();
            let _ = rx.await;
        }
    }
}

impl AuditSink for AuditWriter {
    fn record(&self, event: AuditEvent) {
        // Counted before the send, so the writer never takes more than was counted.
        if self.shared.queued.fetch_add(1, Ordering::Relaxed) + 1 == BATCH {
            self.shared.hurry.notify_one();
        }
        let _ = self.tx.send(Msg::Event(Box::new(event)));
    }
}
