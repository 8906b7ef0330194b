//! Charts as SVG, drawn with plotters: a target's trend (values, target line, projection to the target
//! year) and a per-township breakdown against a floor.

use crate::error::{AppError, AppResult};
use crate::monitor::Point;
use plotters::prelude::*;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 300;
/// The strip under the plot that holds the legend, so that it never covers a value.
const LEGEND_HEIGHT: u32 = 22;
const SERIES: RGBColor = RGBColor(25, 103, 210);
const TARGET: RGBColor = RGBColor(211, 47, 47);
const PROJECTION: RGBColor = RGBColor(120, 120, 120);

fn drawing<E: std::fmt::Debug>(e: E) -> AppError {
    AppError::Internal(format!("drawing a chart: {e:?}"))
}

/// What a trend chart shows.
pub struct Trend<'a> {
    pub title: &'a str,
    pub unit: &'a str,
    pub series: &'a [Point],
    pub target: Option<f64>,
    pub target_year: i32,
    /// The value the current trend reaches in the target year.
    pub projection: Option<f64>,
}

/// The value axis's caption: the unit, or "value" for counts and yes/no.
fn axis_unit(unit: &str) -> String {
    if unit.is_empty() {
        "值 value".into()
    } else {
        format!("值 value ({unit})")
    }
}

/// The legend as a row of swatches in its own strip below the plot.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    items: &[(String, RGBColor)],
) -> AppResult<()> {
    let mut x = 64;
    let y = (LEGEND_HEIGHT / 2) as i32;
    for (label, colour) in items {
        area.draw(&PathElement::new(
            [(x, y), (x + 18, y)],
            colour.stroke_width(2),
        ))
        .map_err(drawing)?;
        area.draw(&Text::new(
            label.clone(),
            (x + 24, y - 6),
            ("sans-serif", 12),
        ))
        .map_err(drawing)?;
        x += 40 + 7 * label.chars().count() as i32;
    }
    Ok(())
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).abs().max(hi.abs() * 0.05).max(0.5);
    (lo - span * 0.15, hi + span * 0.15)
}

/// The trend chart of one target as an SVG document.
pub fn trend_svg(t: &Trend<'_>) -> AppResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let (plot, legend_area) = root.split_vertically(HEIGHT - LEGEND_HEIGHT);
        let mut legend: Vec<(String, RGBColor)> = Vec::new();
        let first = t
            .series
            .iter()
            .map(|p| p.year)
            .min()
            .unwrap_or(2020)
            .min(2020);
        let last = t
            .target_year
            .max(t.series.iter().map(|p| p.year).max().unwrap_or(first));
        let values = t
            .series
            .iter()
            .map(|p| p.value)
            .chain(t.target)
            .chain(t.projection.filter(|v| v.is_finite()));
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let (lo, hi) = if lo.is_finite() {
            padded(lo, hi)
        } else {
            (0.0, 1.0)
        };
        let mut chart = ChartBuilder::on(&plot)
            .caption(t.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(first as f64 - 0.5..last as f64 + 0.5, lo..hi)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_labels((last - first + 1).clamp(2, 12) as usize)
            .x_label_formatter(&|x| format!("{}", x.round() as i32))
            .y_desc(axis_unit(t.unit))
            .x_desc("年 year")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(drawing)?;
        if let Some(target) = t.target {
            chart
                .draw_series(DashedLineSeries::new(
                    [(first as f64 - 0.5, target), (last as f64 + 0.5, target)],
                    6,
                    4,
                    TARGET.stroke_width(2),
                ))
                .map_err(drawing)?;
            legend.push((format!("target {target}{}", t.unit), TARGET));
        }
        let points: Vec<(f64, f64)> = t
            .series
            .iter()
            .map(|p| (f64::from(p.year), p.value))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), SERIES.stroke_width(2)))
            .map_err(drawing)?;
        legend.push(("approved values".into(), SERIES));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, SERIES.filled())))
            .map_err(drawing)?;
        if let (Some(projection), Some(&(x, y))) =
            (t.projection.filter(|v| v.is_finite()), points.last())
        {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, y), (f64::from(t.target_year), projection)],
                    3,
                    3,
                    PROJECTION.stroke_width(2),
                ))
                .map_err(drawing)?;
            legend.push(("projection at the current pace".into(), PROJECTION));
        }
        draw_legend(&legend_area, &legend)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

/// A bar per township with the floor as a line, as an SVG document; bars below the floor are red.
pub fn townships_svg(
    title: &str,
    unit: &str,
    bars: &[(String, f64)],
    floor: Option<f64>,
    higher_is_better: bool,
) -> AppResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let values = bars.iter().map(|(_, v)| *v).chain(floor);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let (lo, hi) = if lo.is_finite() {
            padded(lo, hi)
        } else {
            (0.0, 1.0)
        };
        let n = bars.len().max(1);
        let labels: Vec<String> = bars.iter().map(|(name, _)| name.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..n as f64, lo..hi)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                labels
                    .get(i)
                    .map(|l| l.rsplit('-').next().unwrap_or(l).to_owned())
                    .unwrap_or_default()
            })
            .y_desc(axis_unit(unit))
            .x_desc("乡镇（街道）township")
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(drawing)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                let breach = floor.is_some_and(|f| if higher_is_better { *v < f } else { *v > f });
                let colour = if breach { TARGET } else { SERIES };
                Rectangle::new(
                    [(i as f64 + 0.15, lo), (i as f64 + 0.85, *v)],
                    colour.filled(),
                )
            }))
            .map_err(drawing)?;
        if let Some(f) = floor {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, f), (n as f64, f)],
                    6,
                    4,
                    TARGET.stroke_width(2),
                ))
                .map_err(drawing)?;
        }
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_chart_is_an_svg_with_its_title_and_series() {
        let series = [
            Point {
                year: 2020,
                value: 5.9,
            },
            Point {
                year: 2025,
                value: 5.2,
            },
        ];
        let svg = trend_svg(&Trend {
            title: "HEA-03 婴儿死亡率",
            unit: "‰",
            series: &series,
            target: Some(4.0),
            target_year: 2030,
            projection: Some(4.58),
        })
        .expect("chart");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("婴儿死亡率"));
        assert!(svg.contains("<circle"), "the values are marked");
        assert!(svg.contains("target 4"));
    }
}
