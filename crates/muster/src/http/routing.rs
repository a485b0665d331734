//! Path normalisation before routing: SCIM resource names match in any letter case (product
//! rule 17), repeated and trailing slashes are ignored, and every SCIM prefix maps to one
//! router.

use axum::http::{Request, Uri};

/// The SCIM mount points: the documented one, the short alias, the group-only product's.
pub const SCIM_PREFIXES: [&str; 3] = ["/api/auth/scim/v2", "/api/scim/v2", "/scim/v2"];

const ENDPOINTS: [&str; 9] = [
    "Users",
    "Groups",
    "Schemas",
    "ServiceProviderConfig",
    "serviceConfiguration",
    "ResourceTypes",
    "Bulk",
    ".search",
    "Me",
];

/// The SCIM prefix `path` starts with (already normalised).
pub fn scim_prefix(path: &str) -> Option<&'static str> {
    SCIM_PREFIXES.iter().copied().find(|p| {
        path.len() >= p.len()
            && path[..p.len()].eq_ignore_ascii_case(p)
            && (path.len() == p.len() || path.as_bytes()[p.len()] == b'/')
    })
}

/// Rewrites the request path into canonical form.
pub fn normalize<B>(mut req: Request<B>) -> Request<B> {
    let uri = req.uri();
    let path = uri.path();
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let joined = format!("/{}", segments.join("/"));
    let Some(prefix) = scim_prefix(&joined) else {
        if joined != path {
            set_path(&mut req, &joined);
        }
        return req;
    };
    let prefix_len = prefix.split('/').filter(|s| !s.is_empty()).count();
    let mut out: Vec<String> = prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let rest = segments.split_off(prefix_len.min(segments.len()));
    for (i, seg) in rest.iter().enumerate() {
        let canonical = if i == 0 || (i == 1 && seg.eq_ignore_ascii_case(".search")) {
            ENDPOINTS
                .iter()
                .find(|e| e.eq_ignore_ascii_case(seg))
                .copied()
        } else {
            None
        };
        out.push(canonical.map_or_else(|| seg.to_string(), str::to_string));
    }
    let new_path = format!("/{}", out.join("/"));
    if new_path != path {
        set_path(&mut req, &new_path);
    }
    req
}

fn set_path<B>(req: &mut Request<B>, path: &str) {
    let pq = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = pq.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(p: &str) -> String {
        let req = Request::builder().uri(p).body(()).unwrap_or_default();
        normalize(req).uri().to_string()
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(
            norm("/api/scim/v2/users?filter=x"),
            "/api/scim/v2/Users?filter=x"
        );
        assert_eq!(norm("/scim/v2//GROUPS/abc/"), "/scim/v2/Groups/abc");
        assert_eq!(
            norm("/api/scim/v2/Users/.SEARCH"),
            "/api/scim/v2/Users/.search"
        );
        assert_eq!(
            norm("/API/SCIM/V2/serviceproviderconfig"),
            "/api/scim/v2/ServiceProviderConfig"
        );
        assert_eq!(
            norm("/api/scim/v2/Users/AbC-Id"),
            "/api/scim/v2/Users/AbC-Id"
        );
        assert_eq!(norm("/api/auth/scim/v2/groups"), "/api/auth/scim/v2/Groups");
        assert_eq!(norm("/healthz"), "/healthz");
        assert_eq!(
            norm("/scim/v2/?aadOptscim062020"),
            "/scim/v2?aadOptscim062020"
        );
    }
}
