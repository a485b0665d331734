//! What every request handler shares.

use muster_domain::service::Scim;
use muster_domain::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a token's `last_used` is written at most: a write per request would make every
/// read a write.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct AppState {
    pub scim: Scim,
    pub store: Arc<dyn Store>,
    /// Overrides the base URL derived from `Host` (behind proxies that rewrite it).
    pub public_url: Option<String>,
    touched: Arc<Mutex<HashMap<String, Instant>>>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        limits: muster_domain::service::Limits,
        public_url: Option<String>,
    ) -> Self {
        AppState {
            scim: Scim::new(store.clone(), limits),
            store,
            public_url,
            touched: Arc::default(),
        }
    }

    pub async fn ready(&self) -> bool {
        self.store.ready().await
    }

    /// Records that a token was used, at most once per [`TOUCH_EVERY`] per token and node.
    pub async fn touch_token(&self, id: &str) {
        let due = {
            let Ok(mut map) = self.touched.lock() else {
                return;
            };
            let now = Instant::now();
            match map.get(id) {
                Some(t) if now.duration_since(*t) < TOUCH_EVERY => false,
                _ => {
                    map.insert(id.to_string(), now);
                    true
                }
            }
        };
        if due {
            let when = muster_scim::resource::format_datetime(time::OffsetDateTime::now_utc());
            if let Err(e) = self.store.touch_token(id, &when).await {
                tracing::warn!(error = %e, "could not record token use");
            }
        }
    }
}
