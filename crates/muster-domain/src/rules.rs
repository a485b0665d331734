//! Name rules shared by the SCIM service and the admin side (product.md §3).

use crate::model::{ADMINISTRATORS, EVERYONE};
use muster_scim::resource::fold;

/// Rule 11: what counts as an email address for `userName`.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

/// Rule 4: the system groups' names, in any letter case.
pub fn is_reserved(name: &str) -> bool {
    let f = fold(name.trim());
    f == fold(EVERYONE) || f == fold(ADMINISTRATORS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_reserved_names() {
        for ok in ["a@b.co", "ann.lee+x@sub.example.com"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "ann",
            "@x.com",
            "a@b",
            "a@.com",
            "a@b.",
            "a b@c.com",
            "a@b@c.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_reserved(" everyone "));
        assert!(is_reserved("ADMIN CENTER ADMINISTRATORS"));
        assert!(!is_reserved("Everyone else"));
    }
}
