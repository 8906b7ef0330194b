//! The progress measure of Open SDG / Statistics Canada (`ProgressMeasure` in open-sdg/sdg-build), for one
//! series and one target. Pure: numbers in, a status out. `docs/progress.md` works through the examples
//! that the tests below pin.

/// The status of a target.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProgressStatus {
    /// The latest value meets the target (已实现).
    Achieved,
    /// Progressing fast enough to meet the target by the target year (进展顺利).
    OnTrack,
    /// Progressing, but not fast enough (需加快进度).
    NeedsAcceleration,
    /// Little or no progress towards the target (进展有限).
    LimitedProgress,
    /// Moving away from the target (趋于恶化).
    Deteriorating,
    /// Not enough approved values to assess (数据不足).
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
        if score >= ON_TRACK_SCORE {
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
    /// C, the scaling of the growth thresholds by the natural limit (trend kinds only).
    pub limit_factor: Option<f64>,
    /// The current value grown at the observed rate to the target year.
    pub projection: Option<f64>,
    /// How far the current value still is from the target, in the direction it must move (0 once met).
    pub gap: Option<f64>,
    /// Why a number that is missing is missing.
    pub note: Option<Note>,
}

/// The score at and above which a series is on track (R = 0.95, or x = 1.5 %·C).
pub const ON_TRACK_SCORE: f64 = 2.5;
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

/// Whether `value` is at or past `target` for a series with `direction` (+1 higher is better, −1
/// lower is better): the target check of the method, used for townships and reported numbers too.
pub fn meets(direction: f64, value: f64, target: f64) -> bool {
    if direction > 0.0 {
        value >= target
    } else {
        value <= target
    }
}

/// Measures one series against one goal.
///
/// The status is decided first (the target check, then the ratio or growth); the numbers — observed and
/// required CAGR, the progress value, the projection — are computed for every series with two points of
/// the same sign, achieved or not, so an analyst can re-check each status.
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
        limit_factor: None,
        projection: None,
        gap: None,
        note: None,
    };
    let Some(cur) = current else {
        return out;
    };
    // The target check comes first, and holds even for a single point.
    let achieved = goal
        .target
        .is_some_and(|t| meets(goal.direction, cur.value, t));
    if let Some(target) = goal.target {
        out.gap = Some((goal.direction * (target - cur.value)).max(0.0));
    }
    if achieved {
        out.status = ProgressStatus::Achieved;
        out.score = Some(5.0);
    }
    let Some(base) = base.filter(|b| b.year < cur.year) else {
        if !achieved {
            out.note = Some(Note::OnePoint);
        }
        return out;
    };
    if base.value * cur.value < 0.0 {
        if !achieved {
            out.note = Some(Note::SignChange);
        }
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
            if required.abs() < f64::EPSILON {
                // The base already sat on the target, so R divides by zero: +∞ when the series held or
                // moved the right way (then it is achieved), −∞ when it moved away. Neither is a number
                // to report; the status stands and the note says why the value is missing.
                out.note = Some(Note::NoGrowthRequired);
                if !achieved {
                    out.score = Some(-5.0);
                    out.status = ProgressStatus::Deteriorating;
                }
                return out;
            }
            let r = s * goal.direction * observed / required.abs();
            out.ratio = Some(r);
            if !achieved {
                out.score = Some(score(r));
                out.status = status_for_ratio(r);
            }
        }
        None => {
            let x = s * goal.direction * observed;
            let c = limit_scale(base.value, goal.natural_limit);
            out.ratio = Some(x);
            out.limit_factor = Some(c);
            out.score = Some(trend_score(x, c));
            out.status = status_for_growth(x, c);
        }
    }
    out
}

/// Why a number of a [`Progress`] is missing, in words an analyst can check.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// Only one year has a value (or none from the baseline year on before the latest).
    OnePoint,
    /// The base and current values have different signs, so no growth rate exists.
    SignChange,
    /// The base value already equalled the target: the required growth is 0 and R is undefined.
    NoGrowthRequired,
}

impl Note {
    /// The explanation shown with the status.
    pub fn text(self) -> &'static str {
        match self {
            Note::OnePoint => {
                "only one year has a value from the baseline year on, so no growth rate can be measured"
            }
            Note::SignChange => {
                "the base and current values have different signs, so no growth rate can be measured"
            }
            Note::NoGrowthRequired => {
                "the base value already equalled the target, so the required growth is 0 and the progress ratio is undefined (R = ±∞); the status follows the direction the series moved"
            }
        }
    }
}

/// Open SDG's score for a growth x without a numeric target, with the thresholds scaled by C.
pub fn trend_score(x: f64, c: f64) -> f64 {
    if x < 0.0 {
        (125.0 * x - 2.5).max(-5.0)
    } else if c <= 0.0 {
        5.0
    } else if x >= ON_TRACK_X * c {
        (500.0 * x / c - 5.0).min(5.0)
    } else if x >= NEEDS_ACCELERATION_X * c {
        250.0 * x / c - 1.25
    } else {
        500.0 * x / c - 2.5
    }
}

/// Bounds a projection by a natural limit on the side the series moves towards: a rising series cannot
/// be projected past a ceiling it is below, a falling one past a floor it is above. A limit on the other
/// side of the current value bounds nothing.
pub fn cap_projection(current: f64, projection: f64, limit: f64) -> f64 {
    if projection > current && current <= limit {
        projection.min(limit)
    } else if projection < current && current >= limit {
        projection.max(limit)
    } else {
        projection
    }
}

/// The version of the method these functions implement, reported with every assessment so an exported
/// number can be traced to the rules that made it.
pub const METHOD_VERSION: &str = "open-sdg-progress-2.1+childhub-2";

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
    #[test]
    fn example_7_trend_targets_have_a_score() {
        // Example 4's deteriorating series: x = −0.013894, score = max(125x − 2.5, −5).
        let m = measure(&goal(-1.0, None), &[p(2020, 2.8), p(2025, 3.0)]);
        assert!(close(m.score.unwrap_or(0.0), -4.2368), "{m:?}");
        assert_eq!(m.limit_factor, Some(1.0));
        // Example 3 without a limit: x = 0.008930 in [0.5 %, 1.5 %) → 250x − 1.25.
        let m = measure(&goal(1.0, None), &[p(2020, 88.0), p(2025, 92.0)]);
        assert!(close(m.score.unwrap_or(0.0), 0.9825), "{m:?}");
        // With its limit, C = 0.433104 and x ≥ 1.5 %·C → min(500x/C − 5, 5) = 5.
        let limited = Goal {
            natural_limit: Some(100.0),
            ..goal(1.0, None)
        };
        let m = measure(&limited, &[p(2020, 88.0), p(2025, 92.0)]);
        assert!(close(m.limit_factor.unwrap_or(0.0), 0.433104), "{m:?}");
        assert_eq!(m.score, Some(5.0));
        // Slow growth below 0.5 %: 500x − 2.5.
        let m = measure(&goal(1.0, None), &[p(2020, 50.0), p(2025, 51.0)]);
        let x = 1.02f64.powf(0.2) - 1.0;
        assert!(close(m.score.unwrap_or(0.0), 500.0 * x - 2.5), "{m:?}");
        assert_eq!(m.status, ProgressStatus::LimitedProgress);
        // Every trend status maps back from its score.
        for series in [
            [p(2020, 50.0), p(2025, 51.0)],
            [p(2020, 50.0), p(2025, 53.0)],
            [p(2020, 50.0), p(2025, 60.0)],
            [p(2020, 50.0), p(2025, 45.0)],
        ] {
            let m = measure(&goal(1.0, None), &series);
            assert_eq!(
                ProgressStatus::from_score(m.score.unwrap_or(f64::NAN) + 1e-9),
                m.status,
                "{m:?}"
            );
        }
    }

    #[test]
    fn example_8_an_achieved_target_keeps_its_numbers() {
        let m = measure(&goal(1.0, Some(90.0)), &[p(2020, 85.0), p(2025, 93.0)]);
        assert_eq!(m.status, ProgressStatus::Achieved);
        assert_eq!(m.score, Some(5.0));
        assert!(close(m.cagr_observed.unwrap_or(0.0), 0.018152), "{m:?}");
        assert!(close(m.cagr_required.unwrap_or(0.0), 0.005732), "{m:?}");
        assert!(close(m.ratio.unwrap_or(0.0), 3.1667), "{m:?}");
        assert!(close(m.projection.unwrap_or(0.0), 101.7529), "{m:?}");
        assert_eq!(m.gap, Some(0.0));
        assert_eq!(m.note, None);
    }

    #[test]
    fn example_9_a_limit_bounds_only_the_side_the_series_moves_towards() {
        // Falling towards a floor of 1.0: capped at the floor.
        assert_eq!(cap_projection(1.5, 0.75, 1.0), 1.0);
        // Falling but still far above the floor: untouched (it used to jump onto the floor).
        assert_eq!(cap_projection(3.5, 3.0625, 1.0), 3.0625);
        // Rising to a ceiling of 100: capped; falling away from it: untouched.
        assert_eq!(cap_projection(92.0, 104.0, 100.0), 100.0);
        assert_eq!(cap_projection(92.0, 80.0, 100.0), 80.0);
        // A gross ratio already past 100 rising further is not pulled back under a limit it has passed.
        assert_eq!(cap_projection(104.0, 108.0, 100.0), 108.0);
    }

    #[test]
    fn example_10_no_growth_required_leaves_the_ratio_undefined() {
        // The base already equals the target (90), then the series worsens: R = −∞.
        let m = measure(&goal(1.0, Some(90.0)), &[p(2020, 90.0), p(2025, 88.0)]);
        assert_eq!(m.status, ProgressStatus::Deteriorating);
        assert_eq!(m.ratio, None);
        assert_eq!(m.score, Some(-5.0));
        assert_eq!(m.cagr_required, Some(0.0));
        assert_eq!(m.note, Some(Note::NoGrowthRequired));
        assert!(close(m.projection.unwrap_or(0.0), 86.0444), "{m:?}");
        // Held at the target: achieved, and R (+∞ or 0/0) is still not reported as a number.
        let m = measure(&goal(1.0, Some(90.0)), &[p(2020, 90.0), p(2025, 90.0)]);
        assert_eq!(m.status, ProgressStatus::Achieved);
        assert_eq!(m.ratio, None);
        assert_eq!(m.note, Some(Note::NoGrowthRequired));
    }
}
