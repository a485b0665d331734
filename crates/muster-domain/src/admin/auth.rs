//! Administrators' sign-in: argon2id passwords set through a one-time link, sessions with idle
//! and absolute expiry and a CSRF token, and growing delays after failed attempts.

use super::error::{AdminError, AdminResult};
use super::model::{KeyInfo, Session};
use super::service::{Actor, Admin, Who, at_offset, now};
use super::views::UserView;
use crate::model::{ADMINISTRATORS, TenantId, class};
use crate::tokens;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use muster_scim::resource::{fold, parse_datetime};
use rand::RngCore;
use serde_json::json;

/// How long a set-password link works.
pub const SETUP_TTL_SECONDS: i64 = 24 * 3600;
/// A session ends after this long without a request…
pub const IDLE_SECONDS: i64 = 30 * 60;
/// …and after this long in any case.
pub const ABSOLUTE_SECONDS: i64 = 12 * 3600;
/// Failed attempts allowed before delays start; each further failure doubles the delay.
pub const FREE_FAILURES: i64 = 5;
pub const MAX_DELAY_SECONDS: i64 = 15 * 60;
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 1024;

const SETUP_PREFIX: &str = "msp_";
const SESSION_PREFIX: &str = "mss_";

/// A new administrator: the user and the one-time link that sets its password.
#[derive(Debug, Clone)]
pub struct AdminInvite {
    pub user: UserView,
    pub created: bool,
    /// The path of the set-password page with the secret in its fragment (never sent to the
    /// server in a request line, so never in an access log).
    pub link_path: String,
}

/// A signed-in administrator, as a request sees it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub tenant: TenantId,
    pub user_id: String,
    pub csrf: String,
}

/// Seconds sign-ins stay locked after this many failures: none for the first few, then
/// doubling from one second up to [`MAX_DELAY_SECONDS`], however many failures follow.
pub fn lock_delay(failures: i64) -> Option<i64> {
    (failures >= FREE_FAILURES).then(|| {
        let shift = (failures - FREE_FAILURES).clamp(0, 20) as u32;
        (1i64 << shift).min(MAX_DELAY_SECONDS)
    })
}

fn argon() -> argon2::Argon2<'static> {
    argon2::Argon2::default()
}

pub fn hash_password(password: &str) -> AdminResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| AdminError::internal())?;
    argon()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AdminError::internal())
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
}

fn check_password_rules(password: &str) -> AdminResult<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(AdminError::bad_request(format!(
            "the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long"
        )));
    }
    Ok(())
}

fn expired(at: &str) -> bool {
    parse_datetime(at).is_none_or(|t| t <= time::OffsetDateTime::now_utc())
}

fn seconds_since(at: &str) -> i64 {
    parse_datetime(at).map_or(i64::MAX, |t| {
        (time::OffsetDateTime::now_utc() - t).whole_seconds()
    })
}

impl Admin {
    /// Whether the user is active and a member of the tenant's Admin Center Administrators
    /// (an inactive user holds no access, rule 10: also not the admin side).
    pub async fn is_administrator(&self, t: &TenantId, user: &str) -> AdminResult<bool> {
        let active = match self
            .store
            .get(
                t,
                muster_scim::schema::ResourceKind::User,
                user,
                Default::default(),
            )
            .await
        {
            Ok(u) => UserView::from(&u).active,
            Err(crate::store::StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        Ok(active
            && self
                .store
                .user_groups(t, user)
                .await?
                .iter()
                .any(|(g, kind)| kind == class::SYSTEM && fold(&g.display) == fold(ADMINISTRATORS)))
    }

    /// `muster admin add`: makes a `manual` user (or takes the existing one) a member of Admin
    /// Center Administrators, and a one-time link to set its password.
    pub async fn add_administrator(
        &self,
        who: &Who,
        tenant: &str,
        email: &str,
    ) -> AdminResult<AdminInvite> {
        let t = self.tenant(who, tenant).await?;
        let (user, created) = match self.find_user(&t.id, email.trim()).await {
            Ok(u) => (u, false),
            Err(e) if e.status == 404 => {
                let data = Self::user_document(&t, email, None, None, None, true)?;
                (self.insert_user(&t, data, class::MANUAL).await?, true)
            }
            Err(e) => return Err(e),
        };
        let group = self
            .store
            .group_id_by_name(&t.id, ADMINISTRATORS)
            .await?
            .ok_or_else(AdminError::internal)?;
        self.apply_members(&t.id, &group, std::slice::from_ref(&user.id), &[])
            .await?;
        let g = tokens::generate_with(SETUP_PREFIX);
        self.store
            .set_setup(&t.id, &user.id, &g.hash, &at_offset(SETUP_TTL_SECONDS))
            .await?;
        let view = UserView::from(&user);
        self.changed(
            who,
            Some(&t.id),
            "admin.administrator.add",
            &user.id,
            None,
            Some(json!({"user": view, "created": created})),
        );
        Ok(AdminInvite {
            user: view,
            created,
            link_path: format!("/admin/set-password#token={}", g.secret),
        })
    }

    /// Spends a set-password link. Every session of the user ends.
    pub async fn set_password(&self, secret: &str, password: &str) -> AdminResult<()> {
        check_password_rules(password)?;
        let invalid = || {
            AdminError::new(
                400,
                "invalid_link",
                "this set-password link is not valid or has expired; ask for a new one (muster admin add)",
            )
        };
        let hash = tokens::hash(secret);
        let (t, user, expires) = self.store.setup_by_hash(&hash).await?.ok_or_else(invalid)?;
        if expired(&expires) {
            return Err(invalid());
        }
        let phc = hash_password(password)?;
        if !self
            .store
            .set_password(&t, &user, &hash, &phc, &now())
            .await?
        {
            return Err(invalid());
        }
        self.store.delete_sessions_of(&t, &user).await?;
        let who = Who {
            actor: Actor::Admin {
                tenant: t.clone(),
                user_id: user.clone(),
            },
            request_id: None,
        };
        self.changed(&who, Some(&t), "admin.password.set", &user, None, None);
        Ok(())
    }

    /// Checks a password; answers a session secret and its CSRF token. Unknown users, wrong
    /// passwords and non-administrators get the same answer, after the same work.
    pub async fn sign_in(
        &self,
        tenant: &str,
        email: &str,
        password: &str,
    ) -> AdminResult<(String, SignedIn)> {
        let refused = || AdminError::unauthorized("wrong tenant, email or password");
        let Some(t) = self.store.tenant(tenant).await? else {
            verify_password(password, dummy_phc());
            return Err(refused());
        };
        let user = match self.find_user(&t.id, email.trim()).await {
            Ok(u) => Some(u),
            Err(e) if e.status == 404 => None,
            Err(e) => return Err(e),
        };
        let cred = match &user {
            Some(u) => self.store.credential(&t.id, &u.id).await?,
            None => None,
        };
        let (Some(user), Some(cred)) = (user, cred) else {
            verify_password(password, dummy_phc());
            return Err(refused());
        };
        if let Some(until) = cred.locked_until.as_deref().filter(|u| !expired(u)) {
            return Err(AdminError::too_many(format!(
                "too many failed attempts; try again after {until}"
            )));
        }
        let ok = cred
            .password_hash
            .as_deref()
            .is_some_and(|phc| verify_password(password, phc));
        if !ok {
            // Counted in one statement, so parallel guesses each count.
            let failures = self.store.count_failure(&t.id, &user.id).await?;
            if let Some(delay) = lock_delay(failures) {
                self.store
                    .lock_login(&t.id, &user.id, Some(&at_offset(delay)))
                    .await?;
            }
            return Err(refused());
        }
        if !self.is_administrator(&t.id, &user.id).await? {
            return Err(refused());
        }
        self.store.lock_login(&t.id, &user.id, None).await?;
        let secret = tokens::generate_with(SESSION_PREFIX);
        let csrf = tokens::generate_with("").secret;
        let at = now();
        self.store
            .create_session(
                &secret.hash,
                &Session {
                    tenant_id: t.id.clone(),
                    user_id: user.id.clone(),
                    csrf: csrf.clone(),
                    created: at.clone(),
                    last_seen: at,
                },
            )
            .await?;
        let who = Who {
            actor: Actor::Admin {
                tenant: t.id.clone(),
                user_id: user.id.clone(),
            },
            request_id: None,
        };
        self.changed(
            &who,
            Some(&t.id),
            "admin.session.create",
            &user.id,
            None,
            None,
        );
        Ok((
            secret.secret,
            SignedIn {
                tenant: t.id,
                user_id: user.id,
                csrf,
            },
        ))
    }

    /// The live session for a cookie's secret: not idle too long, not too old, and its user
    /// still an administrator.
    pub async fn session(&self, secret: &str) -> AdminResult<SignedIn> {
        let gone = || AdminError::unauthorized("the session has ended; sign in again");
        let hash = tokens::hash(secret);
        let s = self.store.session(&hash).await?.ok_or_else(gone)?;
        if seconds_since(&s.created) > ABSOLUTE_SECONDS
            || seconds_since(&s.last_seen) > IDLE_SECONDS
        {
            self.store.delete_session(&hash).await?;
            return Err(gone());
        }
        if !self.is_administrator(&s.tenant_id, &s.user_id).await? {
            self.store.delete_session(&hash).await?;
            return Err(gone());
        }
        // Writes at most once a minute per session.
        if seconds_since(&s.last_seen) >= 60 {
            self.store.touch_session(&hash, &now()).await?;
        }
        Ok(SignedIn {
            tenant: s.tenant_id,
            user_id: s.user_id,
            csrf: s.csrf,
        })
    }

    pub async fn sign_out(&self, secret: &str) -> AdminResult<()> {
        Ok(self.store.delete_session(&tokens::hash(secret)).await?)
    }

    /// The live key for a bearer secret.
    pub async fn key(&self, secret: &str) -> AdminResult<Option<KeyInfo>> {
        let key = self.store.key_by_hash(&tokens::hash(secret)).await?;
        Ok(key)
    }
}

/// An argon2id hash of a random password, verified against when there is no user, so an
/// unknown email costs the same time as a wrong password.
fn dummy_phc() -> &'static str {
    static PHC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PHC.get_or_init(|| hash_password(&tokens::generate().secret).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_delays_double_and_stay_capped_for_any_count() {
        assert_eq!(lock_delay(4), None);
        assert_eq!(lock_delay(5), Some(1));
        assert_eq!(lock_delay(6), Some(2));
        assert_eq!(lock_delay(15), Some(MAX_DELAY_SECONDS.min(1024)));
        for n in [68, 1000, i64::MAX] {
            assert_eq!(lock_delay(n), Some(MAX_DELAY_SECONDS), "{n}");
        }
    }

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let phc = hash_password("correct horse battery").unwrap_or_default();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }
}
