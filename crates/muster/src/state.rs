//! What every request handler shares.

use crate::audit::AuditWriter;
use crate::token_cache::TokenCache;
use muster_domain::admin::service::Admin;
use muster_domain::service::Scim;
use muster_domain::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a token's `last_used` is written at most: a write per request would make every
/// read a write.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// How long an authenticated token is remembered unless configured otherwise.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// The handle every handler gets: axum clones its state for each request (and extractor), and
/// cloning the fields themselves (an atomic increment and decrement per `Arc`, and more) was
/// 3.6 % of a SCIM lookup's server CPU. One `Arc` makes it a single increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
    pub scim: Scim,
    pub admin: Admin,
    pub audit: Arc<AuditWriter>,
    pub store: Arc<dyn Store>,
    /// Overrides the base URL derived from `Host` (behind proxies that rewrite it).
    pub public_url: Option<String>,
    /// Successful SCIM reads go to the audit log too (changes and refusals always do).
    pub audit_reads: bool,
    /// Recently authenticated SCIM tokens (see [`TokenCache`] for how long a revocation made
    /// elsewhere takes to apply here).
    pub tokens: Arc<TokenCache>,
    touched: Arc<Mutex<HashMap<String, Instant>>>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        limits: muster_domain::service::Limits,
        public_url: Option<String>,
    ) -> Self {
        let audit = AuditWriter::start(store.clone());
        AppState(Arc::new(Shared {
            scim: Scim::new(store.clone(), limits),
            admin: Admin::new(store.clone(), audit.clone()),
            audit,
            store,
            public_url,
            audit_reads: true,
            tokens: Arc::new(TokenCache::new(TOKEN_CACHE_TTL)),
            touched: Arc::default(),
        }))
    }

    /// The settings, to change before the state is shared (once it is, this changes a copy).
    pub fn configure(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// Which key a bearer secret is, recording its use like a token's.
    pub async fn key(
        &self,
        secret: &str,
    ) -> Result<Option<muster_domain::admin::model::KeyInfo>, muster_domain::admin::error::AdminError>
    {
        let key = self.admin.key(secret).await?;
        if let Some(k) = &key
            && self.due(&k.id)
        {
            let when = muster_domain::admin::service::now();
            if let Err(e) = self.store.touch_key(&k.id, &when).await {
                tracing::warn!(error = %e, "could not record key use");
            }
        }
        Ok(key)
    }

    pub async fn ready(&self) -> bool {
        self.store.ready().await
    }

    /// Whether a secret's use is due to be written (at most once per [`TOUCH_EVERY`] per
    /// secret and node).
    fn due(&self, id: &str) -> bool {
        let Ok(mut map) = self.touched.lock() else {
            return false;
        };
        let now = Instant::now();
        match map.get(id) {
            Some(t) if now.duration_since(*t) < TOUCH_EVERY => false,
            _ => {
                map.insert(id.to_string(), now);
                true
            }
        }
    }

    /// Records that a token was used, at most once per [`TOUCH_EVERY`] per token and node.
    pub async fn touch_token(&self, id: &str) {
        if self.due(id) {
            let when = muster_domain::admin::service::now();
            if let Err(e) = self.store.touch_token(id, &when).await {
                tracing::warn!(error = %e, "could not record token use");
            }
        }
    }
}
