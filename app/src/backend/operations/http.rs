//! The small HTTP client operations use for health checks and `http` drivers: plain HTTP/1.1
//! over hyper, which the server already links, so no second HTTP stack is compiled in.

use std::{net::IpAddr, sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    http::{HeaderName, HeaderValue, Method, Request, StatusCode},
};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};

use crate::domain::outbound::{host_of, OutboundPolicy};

/// The most of an answer's body kept for the log.
const MAX_BODY: usize = 4096;

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    /// The start of the body, as text.
    pub body: String,
}

/// A pooled HTTP client, cheap to clone, that calls only where `policy` allows.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    policy: Arc<OutboundPolicy>,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new(OutboundPolicy::default())
    }
}

impl HttpClient {
    pub fn new(policy: OutboundPolicy) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            policy: Arc::new(policy),
        }
    }

    /// Where this client may send requests; forms check slot addresses against it too.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// Refuses a URL whose host is, or resolves to, an address the policy does not allow. A
    /// name is resolved here because it can point anywhere, the metadata service included.
    async fn check_reach(&self, url: &str) -> Result<(), String> {
        let Some(host) = host_of(url) else {
            return Ok(());
        };
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .map(|address| address.ip())
                .collect(),
        };
        match addresses
            .into_iter()
            .find(|&ip| !self.policy.allows_address(&host, ip))
        {
            Some(ip) => Err(format!("{} ({host} is {ip}.)", self.policy.refusal(&host))),
            None => Ok(()),
        }
    }

    /// Sends one request and reads (the start of) the answer, all within `timeout`. The error
    /// says in words what went wrong, for the operation log.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<String>,
        timeout: Duration,
    ) -> Result<Answer, String> {
        self.check_reach(url).await?;
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("{method} is not an HTTP method"))?;
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("{name} is not a header name"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("the value of header {name} is not valid header text"))?;
            request = request.header(name, value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| format!("cannot build a request to {url}: {e}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(describe_error)?;
            let status = response.status();
            let mut body = response.into_body();
            let mut kept = Vec::new();
            while kept.len() < MAX_BODY {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            kept.extend_from_slice(data);
                        }
                    }
                    Some(Err(e)) => return Err(format!("the answer broke off: {e}")),
                    None => break,
                }
            }
            kept.truncate(MAX_BODY);
            Ok(Answer {
                status,
                body: String::from_utf8_lossy(&kept).into_owned(),
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| format!("no answer from {url} within {}", seconds(timeout)))?
    }

    /// Checks a health URL once: `Ok` with the status for a 2xx answer, else why not.
    pub async fn probe(&self, url: &str, timeout: Duration) -> Result<StatusCode, String> {
        let answer = self.send("GET", url, &[], None, timeout).await?;
        if answer.status.is_success() {
            Ok(answer.status)
        } else {
            Err(format!("{url} answered {}", answer.status))
        }
    }
}

/// The innermost cause of a client error ("Connection refused"), which is what a person needs.
fn describe_error(error: hyper_util::client::legacy::Error) -> String {
    let mut source: &dyn std::error::Error = &error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    if error.is_connect() {
        format!("cannot connect: {source}")
    } else {
        source.to_string()
    }
}

/// A duration as people write it: `30s`, `1.5s`, `200ms`.
pub fn seconds(duration: Duration) -> String {
    if duration.as_millis().is_multiple_of(1000) {
        format!("{}s", duration.as_secs())
    } else if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
