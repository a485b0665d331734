//! The machine's HTTP limit: a minimal axum handler that answers every request with one fixed
//! SCIM ListResponse (one user), measured by the same lookup workload as the real servers.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use std::io::Write;

const BODY: &str = concat!(
    r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"#,
    r#""startIndex":1,"itemsPerPage":1,"Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"#,
    r#""id":"2819c223-7f76-453a-919d-413861904646","userName":"bjensen@example.com","#,
    r#""name":{"givenName":"Barbara","familyName":"Jensen"},"displayName":"Barbara Jensen","#,
    r#""emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"active":true,"#,
    r#""meta":{"resourceType":"User","created":"2024-01-01T00:00:00Z","lastModified":"2024-01-01T00:00:00Z","#,
    r#""version":"W/\"1\"","location":"http://127.0.0.1/api/scim/v2/Users/2819c223-7f76-453a-919d-413861904646"}}]}"#
);

async fn fixed() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/scim+json")], BODY)
}

/// Serves until SIGTERM or Ctrl-C; prints `Baseline base URL: http://ADDR/api/scim/v2` first.
pub async fn serve(listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Baseline base URL: http://{addr}/api/scim/v2")?;
        out.flush()?;
    }
    let app = axum::Router::new().fallback(fixed);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term => {} }
        })
        .await?;
    Ok(())
}
