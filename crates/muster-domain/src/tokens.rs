//! Bearer secrets: 256 random bits, shown once, stored as a SHA-256 hash.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every muster token starts with this, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "mst_";

pub struct Generated {
    pub secret: String,
    pub hash: [u8; 32],
    /// What listings show: enough to tell tokens apart, useless to an attacker.
    pub prefix: String,
}

/// A SCIM token.
pub fn generate() -> Generated {
    generate_with(TOKEN_PREFIX)
}

/// A secret whose kind shows in its first letters (`mst_` SCIM token, `msa_` admin key, …).
pub fn generate_with(kind: &str) -> Generated {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "{kind}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let prefix = secret.chars().take(kind.len() + 6).collect();
    Generated {
        hash: hash(&secret),
        secret,
        prefix,
    }
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Constant-time equality of two hashes.
pub fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(TOKEN_PREFIX) && a.secret.len() == 4 + 43);
        assert!(same_hash(&hash(&a.secret), &a.hash));
        assert!(!same_hash(&a.hash, &b.hash));
        assert!(a.secret.starts_with(&a.prefix));
    }
}
