//! The two middlewares of identity: [`identify`] finds who sent each request (session cookie,
//! or bearer token on the REST API) and leaves a [`Caller`] for handlers and server functions;
//! [`same_origin`] refuses requests that change data when a browser says they come from
//! another site, so no other page can act with a user's cookie (CSRF).

use std::net::{IpAddr, SocketAddr};

use app::{
    backend::{
        accounts::identity,
        audit::{self, Origin},
        AppState, Caller,
    },
    domain::Timestamp,
    error::AppError,
};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use super::{
    error::{ApiError, ErrorReport},
    prometheus::ScrapeToken,
    request_context::RequestId,
};

/// See the module documentation. Static files (`/pkg/…`) are the same for everyone and skip
/// the lookup, as does monitoring with the Prometheus token (not an API token): the scrape,
/// and the detailed health report, which must answer while the database is down.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let monitoring = path == super::prometheus::PATH
        || (path == super::health::DETAILED_PATH
            && request
                .extensions()
                .get::<ScrapeToken>()
                .is_some_and(|token| token.admits(request.headers())));
    if path.starts_with("/pkg/") || monitoring {
        return next.run(request).await;
    }
    // Tokens are for the REST API; pages and server functions go by the session alone.
    let bearer = path
        .starts_with("/api/")
        .then(|| bearer_token(request.headers()))
        .flatten();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let forwarded_for = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    if forwarded_for.is_some() {
        warn_once_of_an_untrusted_proxy(peer, &state.trusted_proxies);
    }
    let origin = Origin {
        client_address: client_address(peer, forwarded_for, &state.trusted_proxies)
            .map(|ip| ip.to_string()),
        request_id: request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone()),
    };
    let session = request.extensions().get::<Session>().cloned();
    let principal = match identity::resolve(
        &state,
        session.as_ref(),
        bearer.as_deref(),
        Timestamp::now(),
    )
    .await
    {
        Ok(principal) => principal,
        Err(error) => return ApiError::from(error).into_response(),
    };
    if bearer.is_some() && principal.is_none() {
        return ApiError::App(AppError::InvalidToken).into_response();
    }
    let caller = Caller { principal, origin };
    let asked = format!("{} {}", request.method(), request.uri().path());
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS {
        let reason = response.extensions().get::<ErrorReport>().map(|r| r.code);
        if let Err(error) =
            audit::refusal(&state.db, &caller, status.as_u16(), reason, &asked).await
        {
            tracing::warn!(%error, "cannot audit a refused request");
        }
    }
    response
}

/// What [`secure_over_https`] needs to know.
#[derive(Clone, Debug)]
pub struct HttpsProxies {
    /// The proxies whose `X-Forwarded-Proto` is believed.
    pub trusted: std::sync::Arc<[IpAddr]>,
    /// Whether the session layer writes the plain cookie (`secure_cookies` off); with it on,
    /// every cookie is `__Host-` and `Secure` already.
    pub plain_cookies: bool,
}

/// Behind a TLS-terminating proxy Switchyard trusts, a request that arrived over https
/// (`X-Forwarded-Proto: https`) gets the session cookie as `secure_cookies` would write it,
/// `__Host-switchyard_session` and `Secure`, and the answer `Strict-Transport-Security`, even
/// with `secure_cookies` off: once a user reached Switchyard over https, the cookie must never
/// travel in clear text. The session layer inside knows only the plain name, so the cookie is
/// renamed on the way in and out; over https a plain-named cookie is ignored (a plain-http page
/// or a sibling domain could have planted it).
pub async fn secure_over_https(
    State(proxies): State<HttpsProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let https = peer.is_some_and(|peer| proxies.trusted.contains(&peer))
        && request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    if !https || !proxies.plain_cookies {
        return next.run(request).await;
    }
    let sent: Vec<String> = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && !is_cookie(pair, super::SESSION_COOKIE))
        .map(
            |pair| match pair.strip_prefix(super::SECURE_SESSION_COOKIE) {
                Some(rest) => format!("{}{rest}", super::SESSION_COOKIE),
                None => pair.to_owned(),
            },
        )
        .collect();
    request.headers_mut().remove(header::COOKIE);
    if let Ok(value) = HeaderValue::from_str(&sent.join("; ")) {
        if !sent.is_empty() {
            request.headers_mut().insert(header::COOKIE, value);
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let text = cookie.to_str().unwrap_or_default();
        let value = match text.strip_prefix(super::SESSION_COOKIE) {
            Some(rest) if rest.starts_with('=') => HeaderValue::from_str(&format!(
                "{}{rest}{}",
                super::SECURE_SESSION_COOKIE,
                if rest.contains("; Secure") {
                    ""
                } else {
                    "; Secure"
                }
            ))
            .unwrap_or(cookie),
            _ => cookie,
        };
        headers.append(header::SET_COOKIE, value);
    }
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(super::request_context::HSTS),
    );
    response
}

/// Whether a `name=value` pair of a `Cookie` header is the cookie `name`.
fn is_cookie(pair: &str, name: &str) -> bool {
    pair.strip_prefix(name)
        .is_some_and(|rest| rest.starts_with('='))
}

/// A proxy that is not in `trusted_proxies` makes every user look like one address: they share
/// one login throttle and the audit log names the proxy. Said once per process, the first time
/// a request comes with `X-Forwarded-For` from an untrusted peer.
fn warn_once_of_an_untrusted_proxy(peer: Option<IpAddr>, trusted: &[IpAddr]) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Some(peer) = peer.filter(|peer| !trusted.contains(peer)) else {
        return;
    };
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            %peer,
            "a request came through a proxy that is not in trusted_proxies: all its users share one \
             address for the login throttle and the audit log; add the proxy's address to trusted_proxies"
        );
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the nearest
/// address in `X-Forwarded-For` that is not a trusted proxy (the header's left part is
/// whatever the client chose to send, so it is read from the right).
fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or_default()
        .split(',')
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    Some(
        hops.iter()
            .rev()
            .find(|hop| !trusted.contains(hop))
            .copied()
            .unwrap_or(peer),
    )
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// See the module documentation. Browsers label every request with `Sec-Fetch-Site` (or,
/// older ones, `Origin`); a request without either comes from a script or a command-line
/// client, which cannot borrow a user's cookie, and passes, as do bearer-token requests.
pub async fn same_origin(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // Bearer tokens count only on the API; elsewhere the cookie decides, so the check applies.
    let bearer_api =
        request.uri().path().starts_with("/api/") && bearer_token(request.headers()).is_some();
    if safe || bearer_api || is_same_origin(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(
        origin = ?request.headers().get(header::ORIGIN),
        sec_fetch_site = ?request.headers().get("sec-fetch-site"),
        "refused a cross-origin request"
    );
    let report = ErrorReport {
        code: "cross_origin",
        message: "Requests that change data must come from Switchyard's own pages; scripts should use an API token."
            .to_owned(),
        ..ErrorReport::for_status(StatusCode::FORBIDDEN)
    };
    let mut response = StatusCode::FORBIDDEN.into_response();
    response.extensions_mut().insert(report);
    response
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: typed into the address bar or opened from a bookmark.
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    header::HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn browsers_must_say_same_origin() {
        assert!(is_same_origin(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "none")])));
        assert!(!is_same_origin(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(!is_same_origin(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(is_same_origin(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!is_same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!is_same_origin(&headers(&[
            ("origin", "null"),
            ("host", "a")
        ])));
        // Neither header: not a browser.
        assert!(is_same_origin(&headers(&[])));
    }

    #[test]
    fn client_addresses_come_from_the_peer_unless_it_is_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("IP");
        let proxy = [ip("10.0.0.2")];
        let peer = Some(ip("10.0.0.2"));
        assert_eq!(
            client_address(Some(ip("203.0.113.5")), Some("1.2.3.4"), &proxy),
            Some(ip("203.0.113.5")),
            "an untrusted peer cannot claim another address"
        );
        assert_eq!(
            client_address(peer, Some("6.6.6.6, 198.51.100.7"), &proxy),
            Some(ip("198.51.100.7")),
            "the proxy's own entry, not the client's claim"
        );
        assert_eq!(
            client_address(peer, Some("198.51.100.7, 10.0.0.2"), &proxy),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(client_address(peer, None, &proxy), peer);
        assert_eq!(client_address(None, Some("1.2.3.4"), &proxy), None);
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer sy_abc")])).as_deref(),
            Some("sy_abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "bearer sy_abc")])).as_deref(),
            Some("sy_abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Basic eDp5")])),
            None
        );
    }
}
