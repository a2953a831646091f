//! The Metrics page's charts, drawn on the server with plotters as SVG: the browser gets
//! markup, not a charting library. Colours are from the Okabe–Ito palette (safe for colour
//! blindness) and differ in lightness too; every series also has its own marker or dash, so a
//! greyscale print still tells them apart.

use plotters::{
    coord::{
        ranged1d::{SegmentValue, SegmentedCoord},
        types::{RangedCoordf64, RangedCoordi32},
    },
    prelude::*,
};

use crate::domain::metrics::Window;

/// Small enough that its text stays readable when a phone scales the chart to its width.
const SIZE: (u32, u32) = (640, 340);
/// Text sizes in the SVG's own pixels (about half on a phone, nearly whole on a desktop).
const LABEL: u32 = 18;
const TITLE: u32 = 19;
/// Okabe–Ito blue (dark in greyscale) and orange (light).
const BLUE: RGBColor = RGBColor(0, 114, 178);
const ORANGE: RGBColor = RGBColor(230, 159, 0);
const INK: RGBColor = RGBColor(34, 34, 34);
const GRID: RGBColor = RGBColor(221, 221, 221);
const FONT: &str = "sans-serif";

/// One stack of a bar chart, or one line of a line chart.
pub struct Series {
    pub name: &'static str,
    /// One per bucket; `None` where the bucket has no data (a gap in a line).
    pub values: Vec<Option<f64>>,
}

/// A horizontal reference line: a DORA threshold or a target of the guide.
pub struct Target {
    pub value: f64,
    pub label: String,
}

/// How the y axis reads: what it measures, in which unit, and whether it is a percentage.
pub struct Axis {
    pub description: String,
    pub percent: bool,
}

impl Axis {
    pub fn count(description: String) -> Self {
        Self {
            description,
            percent: false,
        }
    }

    pub fn percent() -> Self {
        Self {
            description: "change failure rate (%)".into(),
            percent: true,
        }
    }

    fn label(&self, value: f64) -> String {
        if self.percent {
            format!("{value:.0}%")
        } else if value.fract().abs() < 1e-9 {
            format!("{value:.0}")
        } else {
            format!("{value:.1}")
        }
    }
}

/// Bars per bucket, `series` stacked bottom to top.
pub fn stacked_bars(buckets: &[Window], series: &[Series], axis: &Axis) -> Result<String, String> {
    let totals: Vec<f64> = (0..buckets.len())
        .map(|i| series.iter().filter_map(|s| s.values[i]).sum())
        .collect();
    let top = headroom(totals.iter().copied().fold(0.0, f64::max));
    draw(buckets, top, axis, |chart| {
        let mut base = vec![0.0; buckets.len()];
        for (s, color) in series.iter().zip([BLUE, ORANGE, GRID]) {
            let bars: Vec<_> = (0..buckets.len())
                .filter_map(|i| {
                    let value = s.values[i].filter(|v| *v > 0.0)?;
                    let (from, to) = (base[i], base[i] + value);
                    base[i] = to;
                    Some(Rectangle::new(
                        [
                            (SegmentValue::Exact(i as i32), from),
                            (SegmentValue::Exact(i as i32 + 1), to),
                        ],
                        color.filled(),
                    ))
                })
                .collect();
            chart
                .draw_series(bars.into_iter().map(|bar| bar.into_dyn()))
                .map_err(|e| e.to_string())?
                .label(s.name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled())
                });
        }
        Ok(())
    })
}

/// Lines through the buckets' centres; the first solid with circles, the second dashed with
/// triangles; an optional target as a dotted line.
pub fn lines(
    buckets: &[Window],
    series: &[Series],
    target: Option<&Target>,
    axis: &Axis,
) -> Result<String, String> {
    let highest = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .chain(target.map(|t| t.value))
        .fold(0.0, f64::max);
    draw(buckets, headroom(highest), axis, |chart| {
        for (n, s) in series.iter().enumerate() {
            let color = if n == 0 { BLUE } else { ORANGE };
            let style = color.stroke_width(3);
            let points: Vec<_> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (SegmentValue::CenterOf(i as i32), v)))
                .collect();
            // A bucket without data breaks the line instead of bridging the gap.
            for run in runs(&s.values) {
                let run: Vec<_> = run
                    .map(|i| (SegmentValue::CenterOf(i as i32), s.values[i].unwrap_or(0.0)))
                    .collect();
                if n == 0 {
                    chart
                        .draw_series(LineSeries::new(run, style))
                        .map_err(|e| e.to_string())?;
                } else {
                    chart
                        .draw_series(DashedLineSeries::new(run, 8, 5, style))
                        .map_err(|e| e.to_string())?;
                }
            }
            if n == 0 {
                chart
                    .draw_series(
                        points
                            .into_iter()
                            .map(|p| Circle::new(p, 5, color.filled())),
                    )
                    .map_err(|e| e.to_string())?
                    .label(s.name)
                    .legend(move |(x, y)| Circle::new((x + 8, y), 5, color.filled()));
            } else {
                chart
                    .draw_series(
                        points
                            .into_iter()
                            .map(|p| TriangleMarker::new(p, 6, color.filled())),
                    )
                    .map_err(|e| e.to_string())?
                    .label(s.name)
                    .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 6, color.filled()));
            }
        }
        if let Some(target) = target {
            let ends = [
                (SegmentValue::Exact(0), target.value),
                (SegmentValue::Exact(buckets.len() as i32), target.value),
            ];
            chart
                .draw_series(DashedLineSeries::new(ends, 4, 4, INK.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(target.label.as_str())
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], INK.stroke_width(2)));
        }
        Ok(())
    })
}

type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<SegmentedCoord<RangedCoordi32>, RangedCoordf64>>;

/// The frame every chart shares: the buckets along x, labelled by their first day, and a y
/// axis from 0 to `top`; `body` draws the series, then the legend goes on top.
fn draw(
    buckets: &[Window],
    top: f64,
    axis: &Axis,
    body: impl FnOnce(&mut Chart<'_, '_>) -> Result<(), String>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        // An integer range includes its end: n buckets are 0..=n-1.
        let last = (buckets.len() as i32 - 1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(58)
            .y_label_area_size(80)
            .build_cartesian_2d((0..last).into_segmented(), 0.0..top)
            .map_err(|e| e.to_string())?;
        // At most six date labels, however many buckets.
        let every = buckets.len().div_ceil(6).max(1);
        let x_label = |x: &SegmentValue<i32>| match x {
            SegmentValue::CenterOf(i) if *i >= 0 && (*i as usize).is_multiple_of(every) => buckets
                .get(*i as usize)
                .map(|b| day(b.from))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let y_label = |y: &f64| axis.label(*y);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(buckets.len() + 1)
            .y_labels(5)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .x_desc("starting (UTC)")
            .y_desc(axis.description.as_str())
            .label_style((FONT, LABEL).into_font().color(&INK))
            .axis_desc_style((FONT, TITLE).into_font().color(&INK))
            .axis_style(INK)
            .draw()
            .map_err(|e| e.to_string())?;
        body(&mut chart)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font((FONT, LABEL).into_font().color(&INK))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Room above the highest value for the legend; at least 1 so an all-zero chart has a scale.
fn headroom(highest: f64) -> f64 {
    (highest * 1.6).max(1.0)
}

/// The runs of consecutive buckets that have a value.
fn runs(values: &[Option<f64>]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, v) in values.iter().enumerate() {
        match (v.is_some(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..values.len());
    }
    runs
}

fn day(at: crate::domain::Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(at.millis())
        .map(|t| t.format("%d %b").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{metrics::Bucket, Timestamp};

    fn weeks(n: i64) -> Vec<Window> {
        let start = 1_767_225_600_000;
        Window {
            from: Timestamp(start),
            to: Timestamp(start + n * 7 * 86_400_000),
        }
        .buckets(Bucket::Week)
    }

    fn count() -> Axis {
        Axis::count("deployments per week".into())
    }

    #[test]
    fn bars_are_svg_with_dates_units_and_a_legend() {
        let svg = stacked_bars(
            &weeks(3),
            &[
                Series {
                    name: "succeeded",
                    values: vec![Some(4.0), Some(0.0), Some(2.0)],
                },
                Series {
                    name: "failed",
                    values: vec![Some(1.0), Some(0.0), Some(3.0)],
                },
            ],
            &count(),
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("01 Jan") && svg.contains("15 Jan"), "{svg}");
        assert!(svg.contains("deployments per week"));
        assert!(svg.contains("succeeded") && svg.contains("failed"));
        // Four non-empty bars (a zero draws nothing), plus the two legend swatches.
        assert_eq!(svg.matches("fill=\"#0072B2\"").count(), 3, "{svg}");
        assert_eq!(svg.matches("fill=\"#E69F00\"").count(), 3, "{svg}");
    }

    #[test]
    fn lines_break_at_gaps_and_draw_the_target() {
        let svg = lines(
            &weeks(4),
            &[Series {
                name: "median",
                values: vec![Some(1.0), None, Some(2.0), Some(3.0)],
            }],
            Some(&Target {
                value: 5.0,
                label: "target".into(),
            }),
            &count(),
        )
        .unwrap();
        assert!(svg.contains("target"));
        // One circle per value, and one in the legend.
        assert_eq!(svg.matches("<circle").count(), 4, "{svg}");
        assert_eq!(runs(&[Some(1.0), None, Some(2.0), Some(3.0)]), [0..1, 2..4]);
    }
}
