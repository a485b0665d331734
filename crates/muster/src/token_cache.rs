//! SCIM tokens seen recently, so that authenticating a request costs a hash and a map look-up
//! instead of a database query (it was the largest single cost of a read).
//!
//! Entries live at most `ttl`: that bounds how long a token revoked on *another* node (or by
//! the CLI) keeps working here. A change made through this node's admin API clears the cache at
//! once ([`TokenCache::clear`]), so revocations, rotations and tenant changes made here apply to
//! the next request. A rotated token's end of overlap is checked on every hit.

use muster_domain::model::{Tenant, TokenInfo};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Distinct tokens held at most; past it the cache starts over (an attacker sending random
/// tokens only ever misses, and misses are not cached).
const CAPACITY: usize = 10_000;

pub struct TokenCache {
    ttl: Duration,
    map: Mutex<HashMap<[u8; 32], Entry>>,
}

struct Entry {
    until: Instant,
    token: TokenInfo,
    tenant: Tenant,
}

impl TokenCache {
    /// A cache whose entries live `ttl` (zero: nothing is cached).
    pub fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl,
            map: Mutex::default(),
        }
    }

    /// The token and its tenant, if this hash was found valid within the last `ttl`.
    pub fn get(&self, hash: &[u8; 32]) -> Option<(TokenInfo, Tenant)> {
        let map = self.map.lock().ok()?;
        let e = map.get(hash)?;
        if Instant::now() >= e.until {
            return None;
        }
        if let Some(end) = &e.token.expires_at
            && *end <= muster_domain::admin::service::now()
        {
            return None;
        }
        Some((e.token.clone(), e.tenant.clone()))
    }

    pub fn put(&self, hash: [u8; 32], token: &TokenInfo, tenant: &Tenant) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            hash,
            Entry {
                until: Instant::now() + self.ttl,
                token: token.clone(),
                tenant: tenant.clone(),
            },
        );
    }

    /// Forgets every entry: something may have revoked a token or changed a tenant.
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_domain::model::{Mode, TenantId};

    fn token(expires_at: Option<&str>) -> TokenInfo {
        TokenInfo {
            id: "k".into(),
            tenant_id: TenantId("t".into()),
            prefix: "mst_x".into(),
            created: "2026-01-01T00:00:00.000Z".into(),
            last_used: None,
            revoked: false,
            connection_id: None,
            expires_at: expires_at.map(str::to_string),
        }
    }

    fn tenant() -> Tenant {
        Tenant {
            id: TenantId("t".into()),
            name: "t".into(),
            mode: Mode::Scim,
            settings: Default::default(),
            created: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn entries_expire_and_clear() {
        let c = TokenCache::new(Duration::from_millis(50));
        c.put([1; 32], &token(None), &tenant());
        assert!(c.get(&[1; 32]).is_some());
        assert!(c.get(&[2; 32]).is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.get(&[1; 32]).is_none(), "outlived its ttl");
        c.put([1; 32], &token(None), &tenant());
        c.clear();
        assert!(c.get(&[1; 32]).is_none());
    }

    #[test]
    fn a_rotated_token_ends_on_time_and_zero_ttl_caches_nothing() {
        let c = TokenCache::new(Duration::from_secs(60));
        c.put([1; 32], &token(Some("2000-01-01T00:00:00.000Z")), &tenant());
        assert!(c.get(&[1; 32]).is_none(), "its overlap ended");
        c.put([2; 32], &token(Some("2999-01-01T00:00:00.000Z")), &tenant());
        assert!(c.get(&[2; 32]).is_some());
        let off = TokenCache::new(Duration::ZERO);
        off.put([1; 32], &token(None), &tenant());
        assert!(off.get(&[1; 32]).is_none());
    }
}
