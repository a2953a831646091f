//! The Metrics page and its printable report ([`report`], the same WASM chunk): the DORA keys and the guide's KPIs for a window, each beside its previous
//! window, its level or target and its formula; charts drawn on the server; the services side
//! by side. Everything is worded and drawn by the server, so the page only lays it out, and
//! its filters are a plain GET form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

mod report;

use crate::{
    components::form::filter_text,
    domain::{metrics::Level, Action},
    error::AppError,
    model::{Chart, MetricCard, MetricsQuery, MetricsView, ServiceRow, Trend},
    pages::accounts::session::Protected,
};

/// Everything the page shows for `query`.
#[server(prefix = "/rpc", endpoint = "metrics_page")]
pub async fn metrics_page(query: MetricsQuery) -> Result<MetricsView, AppError> {
    use crate::backend::{metrics, rpc};
    rpc::serve(|state, caller| async move { metrics::view(&state.db, &caller, &query).await }).await
}

/// The windows offered, as `range` values.
const RANGES: [(&str, &str); 7] = [
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("365d", "Last 365 days"),
    ("quarter", "This quarter"),
    ("last-quarter", "Last quarter"),
    ("custom", "Custom (from, to)"),
];

/// The Metrics page, or at `/metrics/report` the printable report.
#[component]
pub fn MetricsPage() -> impl IntoView {
    let query = metrics_query();
    if use_location().pathname.get_untracked().ends_with("/report") {
        return view! { <report::ReportPage query /> }.into_any();
    }
    let view = Resource::new(move || query.get(), metrics_page);
    view! {
        <Title text="Metrics" />
        <Protected action=Action::Read>
            <div class="page-head">
                <h1>"Metrics"</h1>
                <a class="button" href=move || report::href(&query.get())>"Printable report"</a>
            </div>
            <p class="lead">"Delivery performance as DORA measures it, and the deployment guide's KPIs, for management reviews."</p>
            <Filters query=query.get_untracked() />
            <Transition fallback=|| view! { <p class="loading">"Computing the metrics…"</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(view) => view! { <Report view /> }.into_any(),
                        Err(error) => view! {
                            <p class="form-error" role="alert">{error.to_string()}" Fix the filter above and press Show."</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
    .into_any()
}

/// The window and scope in the address.
fn metrics_query() -> Memo<MetricsQuery> {
    let params = use_query_map();
    Memo::new(move |_| {
        let params = params.read();
        let value = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        MetricsQuery {
            service: value("service"),
            environment: value("environment"),
            range: value("range"),
            from: value("from"),
            to: value("to"),
            bucket: None,
        }
    })
}

#[component]
fn Filters(query: MetricsQuery) -> impl IntoView {
    let custom = query.from.is_some() || query.to.is_some();
    let chosen = if custom {
        "custom".to_owned()
    } else {
        query.range.clone().unwrap_or_else(|| "30d".into())
    };
    let ranges = RANGES
        .iter()
        .map(|(value, label)| {
            view! { <option value=*value selected=chosen == *value>{*label}</option> }
        })
        .collect_view();
    view! {
        <form method="get" action="/metrics" class="filters no-print" aria-label="Choose the window and scope">
            <div class="field">
                <label for="filter-range">"Window"</label>
                <select id="filter-range" name="range">{ranges}</select>
            </div>
            {filter_text("From (UTC, custom)", "from", query.from, "YYYY-MM-DD")}
            {filter_text("To (UTC, custom, inclusive day)", "to", query.to, "YYYY-MM-DD")}
            {filter_text("Service", "service", query.service, "every service")}
            {filter_text("Environment", "environment", query.environment, "production tier")}
            <button type="submit">"Show"</button>
            <a href="/metrics">"Reset"</a>
        </form>
    }
}

#[component]
fn Report(view: MetricsView) -> impl IntoView {
    let MetricsView {
        scope,
        figures,
        dora,
        kpis,
        unrestored,
        charts,
        services,
    } = view;
    let empty = figures.attempted == 0 && figures.incidents_resolved == 0;
    view! {
        <p class="scope"><strong>{scope}</strong></p>
        {empty.then(|| view! {
            <p class="notice" role="status">"No deployment finished and no incident was resolved in this window: every figure is \"no data\". Widen the window or clear the filters."</p>
        })}
        {unrestored.map(|text| view! { <p class="notice warning" role="status">{text}</p> })}
        <section aria-labelledby="dora-heading">
            <h2 id="dora-heading">"The four keys"</h2>
            <div class="metric-cards">{dora.into_iter().map(|card| view! { <Card card /> }).collect_view()}</div>
        </section>
        <section aria-labelledby="kpi-heading">
            <h2 id="kpi-heading">"Rework, MTTR and the guide's KPIs"</h2>
            <div class="metric-cards">{kpis.into_iter().map(|card| view! { <Card card /> }).collect_view()}</div>
        </section>
        <section aria-labelledby="charts-heading">
            <h2 id="charts-heading">"Trends"</h2>
            <div class="charts">{charts.into_iter().map(|chart| view! { <ChartFigure chart /> }).collect_view()}</div>
        </section>
        <section aria-labelledby="services-heading">
            <h2 id="services-heading">"Services side by side"</h2>
            <Services rows=services />
        </section>
    }
}

#[component]
fn Card(card: MetricCard) -> impl IntoView {
    let (trend_class, trend_word) = match card.trend {
        Some(Trend::Better) => ("trend better", "better"),
        Some(Trend::Worse) => ("trend worse", "worse"),
        Some(Trend::Same) => ("trend", "unchanged"),
        None => ("trend", ""),
    };
    let verdict = card.met.map(|met| {
        if met {
            view! { <span class="status status-succeeded">"on target"</span> }
        } else {
            view! { <span class="status status-failed">"off target"</span> }
        }
    });
    view! {
        <article class="card metric-card">
            <h3>{card.title}</h3>
            <p class="metric-value">
                <a href=card.href title="The records this figure is computed from">{card.value}</a>
                " "
                {card.level.map(|level| view! { <LevelBadge level /> })}
                {verdict}
            </p>
            <p class="metric-detail">{card.detail}</p>
            <p class=trend_class>
                {card.previous}
                {(!trend_word.is_empty()).then(|| format!(" · {trend_word}"))}
            </p>
            <p class="hint">{card.judged_by}</p>
            <p class="formula hint"><span class="visually-hidden">"Formula: "</span>{card.formula}</p>
        </article>
    }
}

#[component]
fn LevelBadge(level: Level) -> impl IntoView {
    let class = match level {
        Level::Elite => "level level-elite",
        Level::High => "level level-high",
        Level::Medium => "level level-medium",
        Level::Low => "level level-low",
    };
    view! { <span class=class>{level.label()}</span> }
}

#[component]
fn ChartFigure(chart: Chart) -> impl IntoView {
    let drawn = !chart.svg.is_empty();
    view! {
        <figure class="card chart">
            <h3>{chart.title}</h3>
            {if drawn {
                view! { <div class="chart-svg" role="img" aria-label=chart.description.clone() inner_html=chart.svg></div> }.into_any()
            } else {
                view! { <p class="empty-state">{chart.description.clone()}</p> }.into_any()
            }}
            <figcaption>
                {drawn.then(|| view! { <p>{chart.description}</p> })}
                <p class="formula hint">{chart.formula}</p>
            </figcaption>
        </figure>
    }
}

#[component]
fn Services(rows: Vec<ServiceRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty-state">"No service deployed in this window."</p> }
            .into_any();
    }
    let rows = rows
        .into_iter()
        .map(|row| {
            let cells = row
                .cells
                .into_iter()
                .zip(["Frequency", "Lead time", "Failure rate", "Recovery"])
                .map(|(cell, label)| {
                    view! {
                        <td data-label=label>
                            {cell.value}" "{cell.level.map(|level| view! { <LevelBadge level /> })}
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row"><a href=row.href>{row.service}</a></th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="stacked">
                <thead><tr>
                    <th scope="col">"Service"</th><th scope="col">"Deployment frequency"</th>
                    <th scope="col">"Lead time"</th><th scope="col">"Change failure rate"</th>
                    <th scope="col">"Recovery time"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
