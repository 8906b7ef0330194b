//! Applying the progress measure to a target of the plan: its kind (thresholds, "reduce by p%", trends,
//! milestones) and its scope (the city, its urban or rural series, or every township on its own).

use crate::monitor::progress::{self, Goal, Point, Progress, ProgressStatus};
use crate::vocabulary::{TargetKind, TargetScope};

/// A target as the evaluation needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetSpec {
    pub kind: TargetKind,
    /// The threshold; for `ReduceByPercent` the percentage to cut.
    pub value: Option<f64>,
    pub baseline_year: i32,
    pub target_year: i32,
    pub scope: TargetScope,
    pub natural_limit: Option<f64>,
}

/// What is wrong with a target's attributes: the field, the value given and what was expected.
pub type TargetProblem = (&'static str, String, String);

/// The one rule for a target's attributes, applied by the catalogue loader and by `setTargets`: a value
/// exactly for the kinds that need one, a finite positive natural limit that says why it is there, and
/// "maintain" only for a level (a kind with a value).
pub fn check_target(
    kind: TargetKind,
    value: Option<f64>,
    natural_limit: Option<f64>,
    limit_reason: Option<&str>,
    maintain: bool,
) -> Result<(), TargetProblem> {
    match (kind.has_value(), value) {
        (true, None) => return Err(("value", "null".into(), format!("a number for {kind}"))),
        (false, Some(v)) => return Err(("value", v.to_string(), format!("no value for {kind}"))),
        (_, Some(v)) if !v.is_finite() => {
            return Err(("value", v.to_string(), "a finite number".into()));
        }
        _ => {}
    }
    if let Some(l) = natural_limit {
        if !l.is_finite() || l < 0.0 {
            return Err((
                "naturalLimit",
                l.to_string(),
                "a finite number, 0 or more".into(),
            ));
        }
        if limit_reason.is_none_or(|r| r.trim().is_empty()) {
            return Err((
                "limitReason",
                String::new(),
                "why the limit is there (e.g. a share in percent cannot pass 100 %)".into(),
            ));
        }
    }
    if maintain && !kind.has_value() {
        return Err((
            "maintain",
            "true".into(),
            format!("false: a {kind} target has no level to keep"),
        ));
    }
    Ok(())
}

/// One township's result under an `each_township` target.
#[derive(Clone, Debug, PartialEq)]
pub struct TownshipResult<R> {
    pub region: R,
    /// The township's series, as measured.
    pub series: Vec<Point>,
    pub progress: Progress,
    /// Its latest value breaches the floor (or ceiling).
    pub below_floor: bool,
}

/// A target's evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation<R> {
    /// For `each_township`: from every township (see [`evaluate`]); otherwise the series' own.
    pub progress: Progress,
    /// The numeric target the series was measured against (derived for `ReduceByPercent`).
    pub target_value: Option<f64>,
    /// The series measured (the city's, or its urban/rural series).
    pub series: Vec<Point>,
    /// `each_township` only: every township's result.
    pub townships: Vec<TownshipResult<R>>,
}

/// The numeric target of a spec for a series: the threshold, or for `ReduceByPercent` the base value cut
/// by the percentage; none for trends.
pub fn target_value(spec: &TargetSpec, series: &[Point]) -> Option<f64> {
    match spec.kind {
        TargetKind::AtLeast | TargetKind::AtMost | TargetKind::Milestone => spec.value,
        TargetKind::ReduceByPercent => {
            let base = progress::base_point(series, spec.baseline_year)?;
            Some(base.value * (1.0 - spec.value? / 100.0))
        }
        TargetKind::TrendUp | TargetKind::TrendDown | TargetKind::TrendNotUp => None,
    }
}

/// Measures one series against a spec.
pub fn measure_series(spec: &TargetSpec, series: &[Point]) -> Progress {
    let target = target_value(spec, series);
    let goal = Goal {
        direction: f64::from(spec.kind.direction()),
        target,
        baseline_year: spec.baseline_year,
        target_year: spec.target_year,
        natural_limit: spec.natural_limit,
    };
    let mut measured = progress::measure(&goal, series);
    // A rate cannot pass its natural limit (100% coverage) however fast it grows now; the limit bounds
    // the side the series moves towards only.
    if let (Some(limit), Some(p), Some(c)) =
        (spec.natural_limit, measured.projection, measured.current)
    {
        measured.projection = Some(progress::cap_projection(c.value, p, limit));
    }
    match spec.kind {
        // A yes/no event: done, or not yet (the growth of a 0/1 series means nothing).
        TargetKind::Milestone if measured.status != ProgressStatus::Achieved => {
            measured.ratio = None;
            measured.score = None;
            measured.projection = None;
            measured.cagr_observed = None;
            measured.cagr_required = None;
            measured.limit_factor = None;
            if measured.current.is_some() {
                measured.status = ProgressStatus::LimitedProgress;
            }
        }
        // "The rise is brought under control": a flat or falling series meets it, so its score is at
        // least the one that stands for on track.
        TargetKind::TrendNotUp if measured.ratio.is_some_and(|x| x >= 0.0) => {
            measured.status = ProgressStatus::OnTrack;
            measured.score = measured.score.map(|s| s.max(progress::ON_TRACK_SCORE));
        }
        _ => {}
    }
    measured
}

/// Evaluates a target. `series` is the series its scope names (the city's, or the city's urban or rural
/// one); `townships` are every township's series, used by `each_township` targets.
///
/// For `each_township`, every township is measured on its own; the target is achieved when all of them
/// are, and otherwise its status is that of the mean score (Open SDG's way of averaging series) of the
/// townships not there yet, so that townships below the floor decide the target's status.
pub fn evaluate<R: Clone>(
    spec: &TargetSpec,
    series: Vec<Point>,
    townships: Vec<(R, Vec<Point>)>,
) -> Evaluation<R> {
    let target = target_value(spec, &series);
    if spec.scope != TargetScope::EachTownship {
        return Evaluation {
            progress: measure_series(spec, &series),
            target_value: target,
            series,
            townships: Vec::new(),
        };
    }
    let results: Vec<TownshipResult<R>> = townships
        .into_iter()
        .map(|(region, s)| {
            let progress = measure_series(spec, &s);
            let below_floor = matches!((progress.current, target), (Some(c), Some(t))
                if !progress::meets(f64::from(spec.kind.direction()), c.value, t));
            TownshipResult {
                region,
                series: s,
                progress,
                below_floor,
            }
        })
        .collect();
    let mut progress = measure_series(spec, &series);
    let measured: Vec<&TownshipResult<R>> = results
        .iter()
        .filter(|t| t.progress.status != ProgressStatus::NoData)
        .collect();
    if !measured.is_empty() {
        // The townships that still have to reach the floor decide: their mean score says whether they
        // will make it in time.
        let lagging: Vec<f64> = measured
            .iter()
            .filter(|t| t.progress.status != ProgressStatus::Achieved)
            .filter_map(|t| t.progress.score)
            .collect();
        let all_achieved = measured
            .iter()
            .all(|t| t.progress.status == ProgressStatus::Achieved);
        if all_achieved && results.len() == measured.len() {
            progress.status = ProgressStatus::Achieved;
            progress.score = Some(5.0);
        } else if lagging.is_empty() {
            progress.status = ProgressStatus::NoData;
            progress.score = None;
        } else {
            let mean = lagging.iter().sum::<f64>() / lagging.len() as f64;
            progress.score = Some(mean);
            progress.status = ProgressStatus::from_score(mean);
        }
    }
    Evaluation {
        progress,
        target_value: target,
        series,
        townships: results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: TargetKind, value: Option<f64>, scope: TargetScope) -> TargetSpec {
        TargetSpec {
            kind,
            value,
            baseline_year: 2020,
            target_year: 2030,
            scope,
            natural_limit: None,
        }
    }

    fn series(values: &[(i32, f64)]) -> Vec<Point> {
        values
            .iter()
            .map(|&(year, value)| Point { year, value })
            .collect()
    }

    #[test]
    fn reduce_by_percent_targets_the_cut_baseline() {
        let s = series(&[(2020, 12.0), (2025, 10.5)]);
        let e = evaluate::<()>(
            &spec(TargetKind::ReduceByPercent, Some(20.0), TargetScope::City),
            s,
            vec![],
        );
        assert_eq!(e.target_value, Some(12.0 * 0.8));
        assert_eq!(e.progress.status, ProgressStatus::OnTrack);
    }

    #[test]
    fn a_milestone_is_achieved_or_not_yet() {
        let open = spec(TargetKind::Milestone, Some(1.0), TargetScope::City);
        assert_eq!(
            measure_series(&open, &series(&[(2020, 0.0), (2023, 1.0)])).status,
            ProgressStatus::Achieved
        );
        assert_eq!(
            measure_series(&open, &series(&[(2020, 0.0), (2023, 0.0)])).status,
            ProgressStatus::LimitedProgress
        );
        assert_eq!(measure_series(&open, &[]).status, ProgressStatus::NoData);
    }

    #[test]
    fn a_flat_series_meets_a_not_up_target() {
        let s = spec(TargetKind::TrendNotUp, None, TargetScope::City);
        assert_eq!(
            measure_series(&s, &series(&[(2020, 15.0), (2025, 15.0)])).status,
            ProgressStatus::OnTrack
        );
        assert_eq!(
            measure_series(&s, &series(&[(2020, 15.0), (2025, 17.0)])).status,
            ProgressStatus::Deteriorating
        );
    }

    #[test]
    fn each_township_names_the_townships_below_the_floor() {
        let s = spec(TargetKind::AtLeast, Some(97.0), TargetScope::EachTownship);
        let towns = vec![
            ("A", series(&[(2020, 98.0), (2025, 98.5)])),
            ("B", series(&[(2020, 95.0), (2025, 95.5)])),
            ("C", series(&[(2020, 97.5), (2025, 98.0)])),
        ];
        let e = evaluate(&s, series(&[(2020, 97.8), (2025, 98.2)]), towns);
        let below: Vec<&str> = e
            .townships
            .iter()
            .filter(|t| t.below_floor)
            .map(|t| t.region)
            .collect();
        assert_eq!(below, ["B"]);
        assert_ne!(
            e.progress.status,
            ProgressStatus::Achieved,
            "the city total meets 97%, one township does not"
        );
        let all_met = evaluate(
            &s,
            vec![],
            vec![
                ("A", series(&[(2025, 98.0)])),
                ("C", series(&[(2025, 97.1)])),
            ],
        );
        assert_eq!(all_met.progress.status, ProgressStatus::Achieved);
    }
}
