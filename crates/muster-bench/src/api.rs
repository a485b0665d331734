//! A thin SCIM client over one keep-alive connection pool: any server, given a base URL and a token.

use axum::body::Bytes;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use std::time::Duration;

/// The media type of RFC 7644 §3.1.
const SCIM_JSON: &str = "application/scim+json";

/// One HTTP answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    auth: HeaderValue,
}

impl Api {
    /// A client with up to `connections` kept-alive HTTP/1.1 connections to `base`.
    pub fn new(base: &str, token: &str, connections: usize) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1))
            .pool_idle_timeout(Duration::from_secs(300))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_string(),
            auth: HeaderValue::from_str(&format!("Bearer {token}"))?,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request; `Err` only when no HTTP answer came (connection, timeout).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, String> {
        let url = format!("{}{}", self.base, path);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(b) = body {
            req = req.header(CONTENT_TYPE, SCIM_JSON).body(b);
        }
        let res = req
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = res.status().as_u16();
        let body = res
            .bytes()
            .await
            .map_err(|e| format!("{method} {path}: reading body: {e}"))?;
        Ok(Answer { status, body })
    }

    pub async fn get(&self, path: &str) -> Result<Answer, String> {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Result<Answer, String> {
        self.send(Method::POST, path, Some(body.to_string().into_bytes()))
            .await
    }

    pub async fn patch(&self, path: &str, body: &serde_json::Value) -> Result<Answer, String> {
        self.send(Method::PATCH, path, Some(body.to_string().into_bytes()))
            .await
    }
}

impl Answer {
    /// `Ok` when the status is one of `want`, else an error naming the request and the body's start.
    pub fn expect(self, what: &str, want: &[u16]) -> Result<Answer, String> {
        if want.contains(&self.status) {
            Ok(self)
        } else {
            let text = String::from_utf8_lossy(&self.body);
            let short: String = text.chars().take(240).collect();
            Err(format!("{what} -> {}: {short}", self.status))
        }
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let text = String::from_utf8_lossy(&self.body);
            let short: String = text.chars().take(160).collect();
            format!("{what}: unexpected body ({e}): {short}")
        })
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?filter=ATTR eq "VALUE"` (with `extra` query parameters appended).
pub fn filter_eq(attr: &str, value: &str, extra: &str) -> String {
    let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("?filter={}{extra}", enc(&format!("{attr} eq \"{quoted}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_filters() {
        assert_eq!(
            filter_eq("userName", "a b@x.com", "&count=1"),
            "?filter=userName%20eq%20%22a%20b%40x.com%22&count=1"
        );
    }
}
