//! The progress measure of Open SDG / Statistics Canada (`ProgressMeasure` in open-sdg/sdg-build), for one
//! series and one target. Pure: numbers in, a status out. `docs/progress.md` works through the examples
//! that the tests below pin.

/// The status of a target.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProgressStatus {
    Achieved,
    OnTrack,
    NeedsAcceleration,
    LimitedProgress,
    Deteriorating,
    NoData,
}

impl ProgressStatus {
    /// Every status, best first.
    pub const ALL: [ProgressStatus; 6] = [
        ProgressStatus::Achieved,
        ProgressStatus::OnTrack,
        ProgressStatus::NeedsAcceleration,
        ProgressStatus::LimitedProgress,
        ProgressStatus::Deteriorating,
        ProgressStatus::NoData,
    ];

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            ProgressStatus::Achieved => "Achieved",
            ProgressStatus::OnTrack => "On track",
            ProgressStatus::NeedsAcceleration => "Needs acceleration",
            ProgressStatus::LimitedProgress => "Limited progress",
            ProgressStatus::Deteriorating => "Deteriorating",
            ProgressStatus::NoData => "No data",
        }
    }

    /// The status as the API spells it, e.g. `ON_TRACK` (also stored by the event tracker).
    pub fn code(self) -> &'static str {
        match self {
            ProgressStatus::Achieved => "ACHIEVED",
            ProgressStatus::OnTrack => "ON_TRACK",
            ProgressStatus::NeedsAcceleration => "NEEDS_ACCELERATION",
            ProgressStatus::LimitedProgress => "LIMITED_PROGRESS",
            ProgressStatus::Deteriorating => "DETERIORATING",
            ProgressStatus::NoData => "NO_DATA",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ProgressStatus::Achieved => "已实现",
            ProgressStatus::OnTrack => "进展顺利",
            ProgressStatus::NeedsAcceleration => "需加快进度",
            ProgressStatus::LimitedProgress => "进展有限",
            ProgressStatus::Deteriorating => "趋于恶化",
            ProgressStatus::NoData => "数据不足",
        }
    }

    /// The colour dashboards and reports show it in.
    pub fn colour(self) -> &'static str {
        match self {
            ProgressStatus::Achieved => "#1a7f37",
            ProgressStatus::OnTrack => "#4caf50",
            ProgressStatus::NeedsAcceleration => "#f0b400",
            ProgressStatus::LimitedProgress => "#f57c00",
            ProgressStatus::Deteriorating => "#d32f2f",
            ProgressStatus::NoData => "#9e9e9e",
        }
    }

    /// The status a score stands for (used when several series are averaged): the score thresholds
    /// that correspond to R = 0.95, 0.6 and 0.
    pub fn from_score(score: f64) -> ProgressStatus {
        if score >= 2.5 {
            ProgressStatus::OnTrack
        } else if score >= 0.0 {
            ProgressStatus::NeedsAcceleration
        } else if score >= -2.5 {
            ProgressStatus::LimitedProgress
        } else {
            ProgressStatus::Deteriorating
        }
    }
}

/// One value of a series.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Point {
    pub year: i32,
    pub value: f64,
}

/// What the measure needs to know of a target.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Goal {
    /// +1 when higher is better, −1 when lower is better.
    pub direction: f64,
    /// The numeric target, if any (for "reduce by p%" already derived from the baseline value).
    pub target: Option<f64>,
    pub baseline_year: i32,
    pub target_year: i32,
    /// The value the indicator cannot pass (100 for coverage rates), for targets without a number.
    pub natural_limit: Option<f64>,
}

/// The result of the measure.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub status: ProgressStatus,
    /// The base point: the baseline year's value, else the first later one.
    pub base: Option<Point>,
    /// The latest point.
    pub current: Option<Point>,
    /// Compound annual growth rate from base to current.
    pub cagr_observed: Option<f64>,
    /// The rate needed from base to reach the target in the target year.
    pub cagr_required: Option<f64>,
    /// R (with a numeric target) or x = s·d·CAGR (without).
    pub ratio: Option<f64>,
    /// Open SDG's score from −5 to 5.
    pub score: Option<f64>,
    /// The current value grown at the observed rate to the target year.
    pub projection: Option<f64>,
    /// How far the current value still is from the target, in the direction it must move (0 once met).
    pub gap: Option<f64>,
}

/// Threshold of R for "on track".
pub const ON_TRACK_R: f64 = 0.95;
/// Threshold of R for "needs acceleration".
pub const NEEDS_ACCELERATION_R: f64 = 0.6;
/// Growth (1.5% a year, scaled by C) for "on track" when there is no numeric target.
pub const ON_TRACK_X: f64 = 0.015;
/// Growth (0.5% a year, scaled by C) for "needs acceleration" when there is no numeric target.
pub const NEEDS_ACCELERATION_X: f64 = 0.005;
/// The exponent of the natural-limit scaling.
pub const LIMIT_EXPONENT: f64 = 4.44;
/// What a base or target value of exactly zero is replaced by.
pub const ZERO: f64 = 0.001;

fn non_zero(v: f64) -> f64 {
    if v == 0.0 { ZERO } else { v }
}

/// Compound annual growth rate from `from` to `to` over `years` years.
pub fn cagr(from: f64, to: f64, years: f64) -> f64 {
    (to / from).powf(1.0 / years) - 1.0
}

/// The scaling C of the thresholds for an indicator with a natural limit, from the base value.
pub fn limit_scale(base: f64, limit: Option<f64>) -> f64 {
    let Some(l) = limit.filter(|l| *l > 0.0) else {
        return 1.0;
    };
    let b = base.abs();
    if b <= l {
        1.0 - (b / l).powf(LIMIT_EXPONENT)
    } else if b < 2.0 * l {
        1.0 - ((2.0 * l - b) / l).powf(LIMIT_EXPONENT)
    } else {
        1.0
    }
}

/// Open SDG's score for a ratio R.
pub fn score(r: f64) -> f64 {
    if r >= NEEDS_ACCELERATION_R {
        (7.1429 * r - 4.2857).min(5.0)
    } else {
        (4.1667 * r - 2.5).max(-5.0)
    }
}

/// The status for a ratio R (numeric target).
pub fn status_for_ratio(r: f64) -> ProgressStatus {
    if r >= ON_TRACK_R {
        ProgressStatus::OnTrack
    } else if r >= NEEDS_ACCELERATION_R {
        ProgressStatus::NeedsAcceleration
    } else if r >= 0.0 {
        ProgressStatus::LimitedProgress
    } else {
        ProgressStatus::Deteriorating
    }
}

/// The status for a growth x with thresholds scaled by C (no numeric target).
pub fn status_for_growth(x: f64, c: f64) -> ProgressStatus {
    if x >= ON_TRACK_X * c {
        ProgressStatus::OnTrack
    } else if x >= NEEDS_ACCELERATION_X * c {
        ProgressStatus::NeedsAcceleration
    } else if x >= 0.0 {
        ProgressStatus::LimitedProgress
    } else {
        ProgressStatus::Deteriorating
    }
}

/// The base point: the baseline year's value if there is one, else the first later value (never an
/// earlier one).
pub fn base_point(series: &[Point], baseline_year: i32) -> Option<Point> {
    series
        .iter()
        .filter(|p| p.year >= baseline_year && p.value.is_finite())
        .min_by_key(|p| p.year)
        .copied()
}

/// The latest point.
pub fn current_point(series: &[Point]) -> Option<Point> {
    series
        .iter()
        .filter(|p| p.value.is_finite())
        .max_by_key(|p| p.year)
        .copied()
}

fn met(goal: &Goal, value: f64, target: f64) -> bool {
    if goal.direction > 0.0 {
        value >= target
    } else {
        value <= target
    }
}

/// Measures one series against one goal.
pub fn measure(goal: &Goal, series: &[Point]) -> Progress {
    let base = base_point(series, goal.baseline_year);
    let current = current_point(series);
    let mut out = Progress {
        status: ProgressStatus::NoData,
        base,
        current,
        cagr_observed: None,
        cagr_required: None,
        ratio: None,
        score: None,
        projection: None,
        gap: None,
    };
    let Some(cur) = current else {
        return out;
    };
    if let Some(target) = goal.target {
        out.gap = Some((goal.direction * (target - cur.value)).max(0.0));
        // The target check comes first, and holds even for a single point.
        if met(goal, cur.value, target) {
            out.status = ProgressStatus::Achieved;
            out.score = Some(5.0);
            return out;
        }
    }
    let Some(base) = base.filter(|b| b.year < cur.year) else {
        return out;
    };
    if base.value * cur.value < 0.0 {
        return out;
    }
    let base_value = non_zero(base.value);
    let years = f64::from(cur.year - base.year);
    let observed = cagr(base_value, cur.value, years);
    out.cagr_observed = Some(observed);
    out.projection =
        Some(cur.value * (1.0 + observed).powf(f64::from(goal.target_year - cur.year)));
    let s = if base.value < 0.0 { -1.0 } else { 1.0 };
    match goal.target {
        Some(target) => {
            let horizon = f64::from(goal.target_year - base.year);
            if horizon <= 0.0 {
                return out;
            }
            let required = cagr(base_value, non_zero(target), horizon);
            out.cagr_required = Some(required);
            let r = if required.abs() < f64::EPSILON {
                // The base already sat on the target; any move the right way keeps it on track.
                if s * goal.direction * observed >= 0.0 {
                    ON_TRACK_R
                } else {
                    -1.0
                }
            } else {
                s * goal.direction * observed / required.abs()
            };
            out.ratio = Some(r);
            out.score = Some(score(r));
            out.status = status_for_ratio(r);
        }
        None => {
            let x = s * goal.direction * observed;
            out.ratio = Some(x);
            out.status = status_for_growth(x, limit_scale(base.value, goal.natural_limit));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(year: i32, value: f64) -> Point {
        Point { year, value }
    }

    fn goal(direction: f64, target: Option<f64>) -> Goal {
        Goal {
            direction,
            target,
            baseline_year: 2020,
            target_year: 2030,
            natural_limit: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    #[test]
    fn example_1_infant_mortality_needs_acceleration() {
        let m = measure(
            &goal(-1.0, Some(4.0)),
            &[p(2020, 5.9), p(2022, 5.6), p(2025, 5.2)],
        );
        assert_eq!(m.status, ProgressStatus::NeedsAcceleration);
        assert!(close(m.cagr_observed.unwrap_or(0.0), -0.024943), "{m:?}");
        assert!(close(m.cagr_required.unwrap_or(0.0), -0.038120), "{m:?}");
        assert!(close(m.ratio.unwrap_or(0.0), 0.6543), "{m:?}");
        assert!(close(m.score.unwrap_or(0.0), 0.3882), "{m:?}");
        assert!(close(m.projection.unwrap_or(0.0), 4.5831), "{m:?}");
        assert!(close(m.gap.unwrap_or(0.0), 1.2), "{m:?}");
    }

    #[test]
    fn example_2_a_single_point_at_the_target_is_achieved() {
        let m = measure(&goal(1.0, Some(90.0)), &[p(2023, 93.0)]);
        assert_eq!(m.status, ProgressStatus::Achieved);
        assert_eq!(m.gap, Some(0.0));
    }

    #[test]
    fn example_3_a_rising_coverage_rate_near_its_limit_is_on_track() {
        let g = Goal {
            natural_limit: Some(100.0),
            ..goal(1.0, None)
        };
        let m = measure(&g, &[p(2020, 88.0), p(2025, 92.0)]);
        assert!(close(limit_scale(88.0, Some(100.0)), 0.433112));
        assert!(close(m.ratio.unwrap_or(0.0), 0.008930), "{m:?}");
        assert_eq!(m.status, ProgressStatus::OnTrack);
        // Without the limit the same growth only needs acceleration.
        assert_eq!(
            measure(&goal(1.0, None), &[p(2020, 88.0), p(2025, 92.0)]).status,
            ProgressStatus::NeedsAcceleration
        );
    }

    #[test]
    fn example_4_a_rising_series_that_should_fall_is_deteriorating() {
        let m = measure(&goal(-1.0, None), &[p(2020, 2.8), p(2025, 3.0)]);
        assert_eq!(m.status, ProgressStatus::Deteriorating);
        assert!(m.ratio.unwrap_or(0.0) < 0.0);
    }

    #[test]
    fn example_5_reduce_by_twenty_percent_is_on_track() {
        // Target derived from the 2020 value: 12.0 × (1 − 20/100) = 9.6.
        let m = measure(&goal(-1.0, Some(9.6)), &[p(2020, 12.0), p(2025, 10.5)]);
        assert!(close(m.ratio.unwrap_or(0.0), 1.1942), "{m:?}");
        assert_eq!(m.status, ProgressStatus::OnTrack);
        assert!(close(m.score.unwrap_or(0.0), 4.2444), "{m:?}");
    }

    #[test]
    fn example_6_one_point_short_of_the_target_is_no_data() {
        let m = measure(&goal(1.0, Some(95.0)), &[p(2025, 93.0)]);
        assert_eq!(m.status, ProgressStatus::NoData);
        assert!(close(m.gap.unwrap_or(0.0), 2.0));
    }

    #[test]
    fn the_base_is_never_earlier_than_the_baseline_year() {
        let m = measure(
            &goal(1.0, Some(60.0)),
            &[p(2019, 10.0), p(2021, 46.6), p(2025, 52.0)],
        );
        assert_eq!(m.base, Some(p(2021, 46.6)));
    }

    #[test]
    fn a_zero_base_is_replaced_and_signs_must_agree() {
        let m = measure(&goal(1.0, None), &[p(2020, 0.0), p(2025, 1.0)]);
        assert!(
            close(m.cagr_observed.unwrap_or(0.0), 1000f64.powf(0.2) - 1.0),
            "{m:?}"
        );
        let m = measure(&goal(1.0, None), &[p(2020, -1.0), p(2025, 1.0)]);
        assert_eq!(m.status, ProgressStatus::NoData);
    }

    #[test]
    fn scores_map_back_to_the_thresholds() {
        for (r, status) in [
            (0.95, ProgressStatus::OnTrack),
            (0.6, ProgressStatus::NeedsAcceleration),
            (0.0, ProgressStatus::LimitedProgress),
            (-0.1, ProgressStatus::Deteriorating),
        ] {
            assert_eq!(status_for_ratio(r), status);
            assert_eq!(
                ProgressStatus::from_score(score(r) + 1e-9),
                status,
                "R = {r}"
            );
        }
    }
}
