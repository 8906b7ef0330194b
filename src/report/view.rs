//! What a report shows, worked out once from an assessment and its warnings: every number formatted,
//! every label chosen, every chart drawn. The templates (`templates/report.html`, `templates/report.md`)
//! only lay it out, and escape every value for their format.

use crate::config::PlanSettings;
use crate::error::AppResult;
use crate::monitor::ProgressStatus;
use crate::report::ReportKind;
use crate::report::charts::{self, Trend};
use crate::service::progress::{self, Assessment, EarlyWarning, TargetProgress};
use crate::vocabulary::TargetScope;

/// A whole report.
pub struct ReportView {
    pub title_zh: String,
    pub title_en: String,
    pub year: i32,
    pub plan_start: i32,
    pub plan_end: i32,
    /// The share of the plan period that has elapsed, e.g. `50%` (mid-term and final reports only).
    pub elapsed: Option<String>,
    pub statuses: Vec<StatusView>,
    pub domains: Vec<DomainView>,
    pub warnings: Vec<WarningView>,
    /// Per department the reader may see: how much of the year's values is in.
    pub completeness: Vec<CompletenessRow>,
}

/// One department's line of the data-completeness table.
pub struct CompletenessRow {
    pub department_zh: String,
    pub department_en: String,
    pub expected: usize,
    pub approved: usize,
    pub pending: usize,
    pub missing: usize,
    /// Approved of expected, e.g. `96%`.
    pub share: String,
}

/// The latest values of one indicator's two groups at the area (`M`/`F` or `U`/`R`), with their years.
#[derive(Clone, Debug)]
pub struct Breakdown {
    pub indicator: String,
    /// `sex` or `residence`.
    pub dimension: &'static str,
    pub first: (&'static str, Option<(i32, f64)>),
    pub second: (&'static str, Option<(i32, f64)>),
    pub decimals: i32,
    pub unit: &'static str,
}

/// A breakdown as the report shows it.
pub struct BreakdownView {
    pub dimension: &'static str,
    pub first_label: &'static str,
    pub first: String,
    pub second_label: &'static str,
    pub second: String,
    /// The second less the first, in the unit (`–` unless both are known for the same year).
    pub gap: String,
}

/// A status column of the summary.
pub struct StatusView {
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub colour: &'static str,
}

/// One of the plan's domains with its targets.
pub struct DomainView {
    pub ordinal: &'static str,
    pub name_zh: String,
    pub name_en: String,
    /// Targets per status, in the order of `statuses`.
    pub counts: Vec<usize>,
    /// A few sentences on the domain as the city would write them, Chinese then English.
    pub narrative_zh: String,
    pub narrative_en: String,
    pub targets: Vec<TargetView>,
}

/// One target.
pub struct TargetView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub status_colour: &'static str,
    /// Why the status is what it is, when it comes from elsewhere than the city's series.
    pub why: Option<String>,
    pub target_year: i32,
    pub latest: String,
    pub base: String,
    pub target: String,
    pub projection: String,
    /// The plan clause (annual reports) or the covered / elapsed shares (mid-term, final).
    pub last_column: String,
    /// Trusted SVG drawn by the chart module.
    pub trend_svg: Option<String>,
    pub townships_svg: Option<String>,
    pub below_count: usize,
    pub below: String,
    /// `each_township` targets: every township's latest value, gap to the target and since when it
    /// has been on the wrong side of it; those below first, the largest gap first.
    pub townships: Vec<TownshipRow>,
    /// Boys and girls, urban and rural, where the indicator has them.
    pub breakdowns: Vec<BreakdownView>,
    pub warnings: Vec<WarningView>,
}

/// One township's line of a per-township target's table.
pub struct TownshipRow {
    pub code: String,
    pub name_zh: String,
    pub latest: String,
    pub below: bool,
    /// How far from the target, in the indicator's unit (`–` when it meets it).
    pub gap: String,
    /// The first year of the run of years up to the latest that all missed the target.
    pub since: String,
}

/// A warning line.
pub struct WarningView {
    pub severity: String,
    pub message: String,
}

const ORDINALS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "七"];

fn number(value: Option<f64>, decimals: i32) -> String {
    value.map_or("–".into(), |v| {
        format!("{v:.*}", decimals.clamp(0, 4) as usize)
    })
}

/// How much of the way from the base value to the target has been covered, as a share.
fn covered(t: &TargetProgress) -> Option<f64> {
    let e = &t.evaluation;
    let base = e.progress.base?.value;
    let current = e.progress.current?.value;
    let target = e.target_value?;
    if (target - base).abs() < f64::EPSILON {
        return None;
    }
    Some((current - base) / (target - base))
}

/// The chart of a target's series with its target line and projection.
pub fn trend_svg(t: &TargetProgress) -> AppResult<String> {
    charts::trend_svg(&Trend {
        title: &format!("{} {}", t.indicator.code, t.indicator.name_zh),
        unit: t.indicator.unit.symbol(),
        series: &t.evaluation.series,
        target: t.evaluation.target_value,
        target_year: t.spec.target_year,
        projection: t.evaluation.progress.projection,
    })
}

fn warning(w: &EarlyWarning) -> WarningView {
    WarningView {
        severity: format!("{:?}", w.warning.severity),
        message: w.message.clone(),
    }
}

fn target(
    t: &TargetProgress,
    year: i32,
    elapsed: Option<f64>,
    warnings: &[EarlyWarning],
) -> AppResult<TargetView> {
    let e = &t.evaluation;
    let p = &e.progress;
    let (decimals, unit) = (t.indicator.decimals, t.indicator.unit.symbol());
    let point = |pt: Option<crate::monitor::Point>| match pt {
        Some(pt) => format!("{} {}{unit}", pt.year, number(Some(pt.value), decimals)),
        None => "–".into(),
    };
    let below: Vec<String> = e
        .townships
        .iter()
        .filter(|r| r.below_floor)
        .map(|r| format!("{} {}", r.region.code, r.region.name_zh))
        .collect();
    let by_township = t.spec.scope == TargetScope::EachTownship && !e.townships.is_empty();
    let townships = if by_township {
        township_rows(t)
    } else {
        Vec::new()
    };
    let townships_svg = if by_township {
        let bars: Vec<(String, f64)> = e
            .townships
            .iter()
            .filter_map(|r| r.progress.current.map(|c| (r.region.code.clone(), c.value)))
            .collect();
        Some(charts::townships_svg(
            &format!(
                "{} 分乡镇（街道）Township breakdown {year}",
                t.indicator.code
            ),
            t.indicator.unit.symbol(),
            &bars,
            e.target_value,
            t.spec.kind.direction() > 0,
        )?)
    } else {
        None
    };
    let last_column = match elapsed {
        None => t.indicator.plan_clause.clone(),
        Some(elapsed) => {
            let covered = match covered(t) {
                Some(c) if c < 0.0 => "moved away from the target 后退".to_owned(),
                Some(c) => format!("{:.0}%", c.min(1.0) * 100.0),
                None if p.status == ProgressStatus::Achieved => "100%".to_owned(),
                None if e.target_value.is_none() => "trend target, no distance 趋势目标".to_owned(),
                None => "no base and latest value yet 数据不足".to_owned(),
            };
            format!("{covered} / {:.0}%", elapsed * 100.0)
        }
    };
    let why = Some(if by_township {
        format!(
            "状态取决于各乡镇（街道）：{} 个未达标 · status from its townships: {}",
            below.len(),
            progress::explain(t)
        )
    } else {
        progress::explain(t)
    });
    Ok(TargetView {
        code: t.indicator.code.clone(),
        name_zh: t.indicator.name_zh.clone(),
        name_en: t.indicator.name_en.clone(),
        status_zh: p.status.label_zh(),
        status_en: p.status.label_en(),
        status_colour: p.status.colour(),
        why,
        target_year: t.spec.target_year,
        latest: point(p.current),
        base: point(p.base),
        target: progress::target_label(t),
        projection: p.projection.map_or("–".into(), |v| {
            format!("{}{unit}", number(Some(v), decimals))
        }),
        last_column,
        trend_svg: if e.series.is_empty() {
            None
        } else {
            Some(trend_svg(t)?)
        },
        townships_svg,
        below_count: below.len(),
        below: below.join(", "),
        townships,
        breakdowns: Vec::new(),
        warnings: warnings
            .iter()
            .filter(|w| w.indicator.id == t.indicator.id)
            .map(warning)
            .collect(),
    })
}

/// The table of a per-township target (see [`TownshipRow`]).
fn township_rows(t: &TargetProgress) -> Vec<TownshipRow> {
    let e = &t.evaluation;
    let (decimals, unit) = (t.indicator.decimals, t.indicator.unit.symbol());
    let up = t.spec.kind.direction() > 0;
    let misses = |v: f64| {
        e.target_value
            .is_some_and(|target| if up { v < target } else { v > target })
    };
    let mut rows: Vec<(f64, TownshipRow)> = e
        .townships
        .iter()
        .map(|r| {
            let latest = r.progress.current;
            let gap = match (latest, e.target_value) {
                (Some(l), Some(target)) if r.below_floor => (target - l.value).abs(),
                _ => 0.0,
            };
            // The trailing run of years that all missed the target.
            let since = r
                .series
                .iter()
                .rev()
                .take_while(|p| misses(p.value))
                .last()
                .filter(|_| r.below_floor)
                .map_or("–".to_owned(), |p| format!("{}年", p.year));
            let row = TownshipRow {
                code: r.region.code.clone(),
                name_zh: r.region.name_zh.clone(),
                latest: latest.map_or("–".into(), |p| {
                    format!("{} {}{unit}", p.year, number(Some(p.value), decimals))
                }),
                below: r.below_floor,
                gap: if r.below_floor {
                    format!("{}{unit}", number(Some(gap), decimals))
                } else {
                    "–".into()
                },
                since,
            };
            (gap, row)
        })
        .collect();
    rows.sort_by(|(ga, a), (gb, b)| {
        b.below
            .cmp(&a.below)
            .then(gb.total_cmp(ga))
            .then(a.code.cmp(&b.code))
    });
    rows.into_iter().map(|(_, r)| r).collect()
}

/// What a domain's figures say, in a few sentences: how many targets are achieved or on track, and
/// which need attention, worst first.
fn narrative(name_zh: &str, targets: &[&TargetProgress]) -> (String, String) {
    use ProgressStatus as S;
    let total = targets.len();
    let good = targets
        .iter()
        .filter(|t| matches!(t.evaluation.progress.status, S::Achieved | S::OnTrack))
        .count();
    let mut attention: Vec<&&TargetProgress> = targets
        .iter()
        .filter(|t| {
            matches!(
                t.evaluation.progress.status,
                S::NeedsAcceleration | S::LimitedProgress | S::Deteriorating
            )
        })
        .collect();
    // Worst first: deteriorating, then limited progress, then needing acceleration.
    attention.sort_by_key(|t| std::cmp::Reverse(t.evaluation.progress.status as u8));
    let no_data = targets
        .iter()
        .filter(|t| t.evaluation.progress.status == S::NoData)
        .count();
    let mut zh = format!("{name_zh}领域共 {total} 项目标，{good} 项已实现或进展顺利");
    let mut en = format!("{good} of {total} targets achieved or on track");
    if attention.is_empty() {
        zh.push_str("，暂无需要特别关注的目标");
        en.push_str("; none needs particular attention");
    } else {
        let named_zh: Vec<String> = attention
            .iter()
            .map(|t| {
                format!(
                    "{}（{}）",
                    t.indicator.name_zh,
                    t.evaluation.progress.status.label_zh()
                )
            })
            .collect();
        let named_en: Vec<String> = attention
            .iter()
            .map(|t| {
                format!(
                    "{} ({})",
                    t.indicator.name_en,
                    t.evaluation.progress.status.label_en().to_lowercase()
                )
            })
            .collect();
        zh.push_str(&format!(
            "；{} 项需要关注：{}",
            attention.len(),
            named_zh.join("、")
        ));
        en.push_str(&format!(
            "; {} need attention: {}",
            attention.len(),
            named_en.join(", ")
        ));
    }
    if no_data > 0 {
        zh.push_str(&format!("；{no_data} 项因数据不足暂无法评估"));
        en.push_str(&format!("; {no_data} cannot be assessed for want of data"));
    }
    zh.push('。');
    en.push('.');
    (zh, en)
}

/// Puts each breakdown under its target.
pub fn add_breakdowns(view: &mut ReportView, breakdowns: &[Breakdown]) {
    let label = |code: &str| match code {
        "M" => "男童 Boys",
        "F" => "女童 Girls",
        "U" => "城镇 Urban",
        _ => "农村 Rural",
    };
    for target in view.domains.iter_mut().flat_map(|d| d.targets.iter_mut()) {
        for b in breakdowns.iter().filter(|b| b.indicator == target.code) {
            let shown = |v: Option<(i32, f64)>| {
                v.map_or("–".into(), |(y, v)| {
                    format!("{y} {}{}", number(Some(v), b.decimals), b.unit)
                })
            };
            let gap = match (b.first.1, b.second.1) {
                (Some((ya, a)), Some((yb, v))) if ya == yb => {
                    format!("{:+.*}{}", b.decimals.clamp(0, 4) as usize, v - a, b.unit)
                }
                _ => "–".into(),
            };
            target.breakdowns.push(BreakdownView {
                dimension: if b.dimension == "sex" {
                    "性别 Sex"
                } else {
                    "城乡 Urban / rural"
                },
                first_label: label(b.first.0),
                first: shown(b.first.1),
                second_label: label(b.second.0),
                second: shown(b.second.1),
                gap,
            });
        }
    }
}

/// The data-completeness table, from what each department owes for the year.
pub fn add_completeness(view: &mut ReportView, due: &[crate::service::due::Due]) {
    view.completeness = due
        .iter()
        .map(|d| {
            let c = crate::service::due::Counts::of(&d.cells);
            CompletenessRow {
                department_zh: d.department.name_zh.clone(),
                department_en: d.department.name_en.clone(),
                expected: c.expected,
                approved: c.approved,
                pending: c.pending,
                missing: c.missing + c.rejected,
                share: if c.expected == 0 {
                    "–".into()
                } else {
                    format!("{:.0}%", 100.0 * c.approved as f64 / c.expected as f64)
                },
            }
        })
        .filter(|r| r.expected > 0)
        .collect();
}

/// The view of a report of `kind` over an assessment.
pub fn build(
    kind: ReportKind,
    plan: &PlanSettings,
    assessment: &Assessment,
    warnings: &[EarlyWarning],
    domains: &[entity::domain::Model],
) -> AppResult<ReportView> {
    let (zh, en) = kind.titles();
    let area = &assessment.area;
    let year = assessment.year;
    let elapsed = (kind != ReportKind::Annual).then(|| {
        (f64::from(year - plan.baseline_year) / f64::from(plan.target_year - plan.baseline_year))
            .clamp(0.0, 1.0)
    });
    let mut views = Vec::new();
    for (i, d) in domains.iter().enumerate() {
        let targets: Vec<&TargetProgress> = assessment
            .targets
            .iter()
            .filter(|t| t.indicator.domain_id == d.id)
            .collect();
        let counts = ProgressStatus::ALL
            .iter()
            .map(|s| {
                targets
                    .iter()
                    .filter(|t| t.evaluation.progress.status == *s)
                    .count()
            })
            .collect();
        let (narrative_zh, narrative_en) = narrative(&d.name_zh, &targets);
        views.push(DomainView {
            ordinal: ORDINALS.get(i).copied().unwrap_or(""),
            name_zh: d.name_zh.clone(),
            name_en: d.name_en.clone(),
            counts,
            narrative_zh,
            narrative_en,
            targets: targets
                .into_iter()
                .map(|t| target(t, year, elapsed, warnings))
                .collect::<AppResult<_>>()?,
        });
    }
    Ok(ReportView {
        title_zh: format!(
            "{}儿童发展规划（{}—{}年）{}（{}年）",
            area.name_zh,
            plan.baseline_year + 1,
            plan.target_year,
            zh,
            year
        ),
        title_en: format!(
            "{} children's development plan {}–{}: {} {}",
            area.name_en,
            plan.baseline_year + 1,
            plan.target_year,
            en.to_lowercase(),
            year
        ),
        year,
        plan_start: plan.baseline_year,
        plan_end: plan.target_year,
        elapsed: elapsed.map(|e| format!("{:.0}%", e * 100.0)),
        statuses: ProgressStatus::ALL
            .iter()
            .map(|s| StatusView {
                label_zh: s.label_zh(),
                label_en: s.label_en(),
                colour: s.colour(),
            })
            .collect(),
        domains: views,
        warnings: warnings.iter().map(warning).collect(),
        completeness: Vec::new(),
    })
}
