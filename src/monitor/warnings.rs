//! Early warning: findings that need attention, derived from the same evaluations as progress (so the two
//! never disagree) and from data-quality facts.

use crate::monitor::evaluate::{Evaluation, TargetSpec, measure_series};
use crate::monitor::progress::{Point, ProgressStatus};
use crate::vocabulary::TargetKind;

/// What kind of finding.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum WarningKind {
    /// The target needs acceleration or makes limited progress.
    OffTrack,
    /// The series moves away from the target.
    Deteriorating,
    /// A township's latest value breaches a per-township floor.
    BelowFloor,
    /// A value breaches a level the plan asks to maintain (e.g. retention below 99.41% in a year).
    MaintainBreach,
    /// A value jumped implausibly from the year before (flagged when it was accepted).
    ImplausibleJump,
    /// No value for the year.
    MissingData,
    /// A source connector keeps failing to pull a department's values.
    SourceFailing,
}

/// How bad a finding is.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Worth a look, e.g. a value that jumped implausibly.
    Low,
    /// Needs attention this year, e.g. progress too slow for the target.
    Medium,
    /// Needs action now, e.g. a series moving away from its target or a maintained level breached.
    High,
}

/// One finding about a series. `R` identifies regions (ids in the service, codes in tests).
#[derive(Clone, Debug, PartialEq)]
pub struct Warning<R> {
    pub kind: WarningKind,
    pub severity: Severity,
    /// The township concerned, for per-township findings.
    pub region: Option<R>,
    /// The year the finding is about.
    pub year: i32,
    /// The first year of the uninterrupted run that leads to it.
    pub since: i32,
    pub value: Option<f64>,
    /// The target value or floor breached, if any.
    pub threshold: Option<f64>,
    pub status: Option<ProgressStatus>,
}

fn off_track(status: ProgressStatus) -> bool {
    matches!(
        status,
        ProgressStatus::NeedsAcceleration
            | ProgressStatus::LimitedProgress
            | ProgressStatus::Deteriorating
    )
}

/// The first year from which the status of the series, measured with the data up to each year, has been
/// off track without interruption up to `year`.
fn off_track_since(spec: &TargetSpec, series: &[Point], year: i32) -> i32 {
    let mut since = year;
    for y in (spec.baseline_year..year).rev() {
        let upto: Vec<Point> = series.iter().copied().filter(|p| p.year <= y).collect();
        if upto.iter().any(|p| p.year == y) && off_track(measure_series(spec, &upto).status) {
            since = y;
        } else if upto.iter().any(|p| p.year == y) {
            break;
        }
    }
    since
}

fn breaches(kind: TargetKind, value: f64, threshold: f64) -> bool {
    match kind {
        TargetKind::AtLeast => value < threshold,
        TargetKind::AtMost => value > threshold,
        _ => false,
    }
}

/// The first year of the run of breaching values that ends with the series' last value.
fn breach_since(kind: TargetKind, series: &[Point], threshold: f64) -> Option<i32> {
    let mut sorted: Vec<&Point> = series.iter().collect();
    sorted.sort_by_key(|p| p.year);
    let mut since = None;
    for p in sorted.iter().rev() {
        if breaches(kind, p.value, threshold) {
            since = Some(p.year);
        } else {
            break;
        }
    }
    since
}

/// Findings of one evaluated target for `year`. `maintain` marks targets the plan asks to reach and keep
/// ("保持"): once the level is reached, every later year below it is a finding, not only the latest.
pub fn for_target<R: Clone>(
    spec: &TargetSpec,
    maintain: bool,
    evaluation: &Evaluation<R>,
    year: i32,
) -> Vec<Warning<R>> {
    let mut out = Vec::new();
    let progress = &evaluation.progress;
    if off_track(progress.status) {
        let deteriorating = progress.status == ProgressStatus::Deteriorating;
        out.push(Warning {
            kind: if deteriorating {
                WarningKind::Deteriorating
            } else {
                WarningKind::OffTrack
            },
            severity: match progress.status {
                ProgressStatus::Deteriorating => Severity::High,
                ProgressStatus::LimitedProgress => Severity::Medium,
                _ => Severity::Low,
            },
            region: None,
            year,
            since: off_track_since(spec, &evaluation.series, year),
            value: progress.current.map(|c| c.value),
            threshold: evaluation.target_value,
            status: Some(progress.status),
        });
    }
    if let Some(threshold) = evaluation.target_value {
        for township in evaluation.townships.iter().filter(|t| t.below_floor) {
            let current = township.progress.current;
            let latest = current.map_or(year, |c| c.year);
            out.push(Warning {
                kind: WarningKind::BelowFloor,
                severity: Severity::High,
                region: Some(township.region.clone()),
                year: latest,
                since: breach_since(spec.kind, &township.series, threshold).unwrap_or(latest),
                value: current.map(|c| c.value),
                threshold: Some(threshold),
                status: Some(township.progress.status),
            });
        }
        if maintain {
            // A level to maintain is breached by any year below it once it has been reached.
            let reached = evaluation
                .series
                .iter()
                .filter(|p| {
                    p.year >= spec.baseline_year && !breaches(spec.kind, p.value, threshold)
                })
                .map(|p| p.year)
                .min();
            for p in evaluation
                .series
                .iter()
                .filter(|p| p.year <= year && reached.is_some_and(|r| p.year > r))
            {
                if breaches(spec.kind, p.value, threshold) {
                    out.push(Warning {
                        kind: WarningKind::MaintainBreach,
                        severity: if p.year == year {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                        region: None,
                        year: p.year,
                        since: p.year,
                        value: Some(p.value),
                        threshold: Some(threshold),
                        status: None,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::evaluate::evaluate;
    use crate::vocabulary::TargetScope;

    fn series(values: &[(i32, f64)]) -> Vec<Point> {
        values
            .iter()
            .map(|&(year, value)| Point { year, value })
            .collect()
    }

    #[test]
    fn a_maintained_level_is_breached_in_the_year_it_dips() {
        let spec = TargetSpec {
            kind: TargetKind::AtLeast,
            value: Some(99.41),
            baseline_year: 2020,
            target_year: 2030,
            scope: TargetScope::City,
            natural_limit: None,
        };
        let s = series(&[(2020, 99.5), (2021, 99.45), (2022, 99.32), (2023, 99.46)]);
        let e = evaluate::<()>(&spec, s, vec![]);
        assert_eq!(e.progress.status, ProgressStatus::Achieved);
        let w = for_target(&spec, true, &e, 2023);
        assert_eq!(w.len(), 1);
        assert_eq!(
            (w[0].kind, w[0].year, w[0].severity),
            (WarningKind::MaintainBreach, 2022, Severity::Medium)
        );
    }

    #[test]
    fn a_level_not_yet_reached_is_not_a_maintain_breach() {
        let spec = TargetSpec {
            kind: TargetKind::AtLeast,
            value: Some(95.0),
            baseline_year: 2020,
            target_year: 2030,
            scope: TargetScope::City,
            natural_limit: None,
        };
        let e = evaluate::<()>(&spec, series(&[(2020, 88.0), (2025, 92.9)]), vec![]);
        assert!(
            for_target(&spec, true, &e, 2025)
                .iter()
                .all(|w| w.kind != WarningKind::MaintainBreach)
        );
    }

    #[test]
    fn a_township_below_the_floor_says_since_when() {
        let spec = TargetSpec {
            kind: TargetKind::AtLeast,
            value: Some(97.0),
            baseline_year: 2020,
            target_year: 2030,
            scope: TargetScope::EachTownship,
            natural_limit: None,
        };
        let towns = vec![
            ("T1", series(&[(2020, 97.2), (2021, 96.8), (2022, 96.5)])),
            ("T2", series(&[(2020, 98.0), (2022, 98.1)])),
        ];
        let e = evaluate(&spec, series(&[(2020, 97.6), (2022, 97.4)]), towns);
        let w = for_target(&spec, false, &e, 2022);
        let floor: Vec<_> = w
            .iter()
            .filter(|w| w.kind == WarningKind::BelowFloor)
            .collect();
        assert_eq!(floor.len(), 1);
        assert_eq!(
            (floor[0].region, floor[0].since, floor[0].value),
            (Some("T1"), 2021, Some(96.5))
        );
    }

    #[test]
    fn off_track_findings_match_the_status() {
        let spec = TargetSpec {
            kind: TargetKind::TrendDown,
            value: None,
            baseline_year: 2020,
            target_year: 2030,
            scope: TargetScope::City,
            natural_limit: None,
        };
        let e = evaluate::<()>(
            &spec,
            series(&[(2020, 2.8), (2022, 2.9), (2024, 3.0)]),
            vec![],
        );
        let w = for_target(&spec, false, &e, 2024);
        assert_eq!(w[0].kind, WarningKind::Deteriorating);
        assert_eq!(w[0].status, Some(e.progress.status));
        assert_eq!(w[0].since, 2022);
    }
}
