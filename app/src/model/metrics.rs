//! The delivery metrics as the API and the Metrics page show them.

use serde::{Deserialize, Serialize};

use super::{ActionItem, IncidentSummary};
use crate::domain::metrics::{Bucket, Figures, Level};

/// Which deployments and incidents a figure is computed from, as typed in a URL: every field
/// optional. Without `environment`, every production-tier environment of `service` (or of
/// every service); the window defaults to the last 30 days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct MetricsQuery {
    #[serde(default)]
    pub service: Option<String>,
    /// An environment name; with `service`, that service's environment, else every service's
    /// environment of that name.
    #[serde(default)]
    pub environment: Option<String>,
    /// A named window instead of `from` and `to`: `7d`, `30d`, `90d`, `365d`, `quarter` (this
    /// calendar quarter so far) or `last-quarter`.
    #[serde(default)]
    pub range: Option<String>,
    /// Start of the window, inclusive (RFC 3339, or a UTC day).
    #[serde(default)]
    pub from: Option<String>,
    /// End of the window, exclusive (RFC 3339; a UTC day includes that day).
    #[serde(default)]
    pub to: Option<String>,
    /// `week` or `month` (series only; chosen from the window's length when absent).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::metrics::window::Bucket>))]
    pub bucket: Option<String>,
}

/// The same figures per week or month across a window, for trends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricsSeries {
    pub bucket: Bucket,
    /// One per bucket, oldest first; the last may be shorter than the others.
    pub points: Vec<Figures>,
}

/// Whether a change from the previous window is good news.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trend {
    Better,
    Worse,
    Same,
}

/// One card of the Metrics page, worded on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricCard {
    pub title: String,
    /// "3.2/day", "4.5%", "no data".
    pub value: String,
    /// What the value is computed from: "from 41 of 52 succeeded deployments".
    pub detail: String,
    pub level: Option<Level>,
    /// For KPIs: whether the guide's target is met.
    pub met: Option<bool>,
    pub formula: String,
    /// The DORA thresholds or the guide's target.
    pub judged_by: String,
    /// "previous 30 days: 2.8/day".
    pub previous: String,
    pub trend: Option<Trend>,
    /// The list the figure was computed from.
    pub href: String,
}

/// One chart: its SVG (drawn on the server) and the same facts in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub title: String,
    pub formula: String,
    /// The text alternative: what the chart shows, in sentences.
    pub description: String,
    /// Empty when there is no data: the page says so instead of drawing empty axes.
    pub svg: String,
}

/// A service's four keys over the window, for the side-by-side table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub service: String,
    pub cells: Vec<ServiceCell>,
    pub href: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceCell {
    pub value: String,
    pub level: Option<Level>,
}

/// Everything the Metrics page (and the printable report) shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsView {
    /// "Production environments of every service, 2026-11-06 00:00 UTC to 2026-12-06 00:00 UTC".
    pub scope: String,
    pub figures: Figures,
    pub dora: Vec<MetricCard>,
    pub kpis: Vec<MetricCard>,
    /// "2 failed changes not yet restored", when there are any.
    pub unrestored: Option<String>,
    pub charts: Vec<Chart>,
    pub services: Vec<ServiceRow>,
}

/// The printable management report: the Metrics page, the incidents resolved in the window with
/// their post-mortems, and the action items still open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub view: MetricsView,
    pub incidents: Vec<IncidentSummary>,
    pub action_items: Vec<ActionItem>,
    /// "2026-12-06 10:53 UTC": when the report was made.
    pub made_at: String,
}
