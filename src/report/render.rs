//! Building a report: gather the assessment and warnings through the policy, then write HTML or Markdown.

use crate::auth::Identity;
use crate::error::AppResult;
use crate::monitor::ProgressStatus;
use crate::monitor::Severity;
use crate::report::charts::{self, Trend};
use crate::service::catalogue;
use crate::service::progress::{self, Assessment, EarlyWarning, ProgressFilter, TargetProgress};
use crate::vocabulary::TargetScope;
use std::fmt::Write as _;

/// Which report.
#[derive(async_graphql::Enum, clap::ValueEnum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// 年度监测报告
    Annual,
    /// 中期评估报告 (2025)
    Midterm,
    /// 终期评估报告 (2030)
    Final,
}

impl ReportKind {
    /// Reads `annual`, `midterm` or `final`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "annual" => Some(ReportKind::Annual),
            "midterm" => Some(ReportKind::Midterm),
            "final" => Some(ReportKind::Final),
            _ => None,
        }
    }

    fn titles(self) -> (&'static str, &'static str) {
        match self {
            ReportKind::Annual => ("年度监测报告", "Annual monitoring report"),
            ReportKind::Midterm => ("中期评估报告", "Mid-term evaluation report"),
            ReportKind::Final => ("终期评估报告", "Final evaluation report"),
        }
    }
}

/// The document format.
#[derive(clap::ValueEnum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Md,
}

/// The plan period the mid-term and final reports measure elapsed time against.
const PLAN_START: i32 = 2020;
const PLAN_END: i32 = 2030;

/// Renders the report of `kind` for `year` with what `identity` may read.
pub async fn render(
    db: &crate::service::Db,
    identity: &Identity,
    year: i32,
    kind: ReportKind,
    format: ReportFormat,
    region: Option<String>,
) -> AppResult<String> {
    let filter = ProgressFilter {
        year: Some(year),
        region,
        ..ProgressFilter::default()
    };
    let assessment = progress::assess(db, identity, &filter).await?;
    let warnings = progress::warnings_of(db, &assessment, Severity::Low).await?;
    let domains = catalogue::list_domains(db).await?;
    let report = Report {
        kind,
        year,
        assessment: &assessment,
        warnings: &warnings,
        domains: &domains,
    };
    match format {
        ReportFormat::Html => report.html(),
        ReportFormat::Md => Ok(report.markdown()),
    }
}

struct Report<'a> {
    kind: ReportKind,
    year: i32,
    assessment: &'a Assessment,
    warnings: &'a [EarlyWarning],
    domains: &'a [entity::domain::Model],
}

/// The target in words and symbols: `≥ 95.0%`, `≤ 9.6 (−20%)`, `falling`, …
fn target_text(t: &TargetProgress, decimals: i32, unit: &str) -> String {
    use crate::vocabulary::TargetKind;
    let value = t
        .evaluation
        .target_value
        .map(|v| format!("{v:.*}{unit}", decimals.clamp(0, 4) as usize));
    match (t.spec.kind, value) {
        (TargetKind::AtLeast, Some(v)) => format!("≥ {v}"),
        (TargetKind::AtMost, Some(v)) => format!("≤ {v}"),
        (TargetKind::ReduceByPercent, Some(v)) => {
            format!("≤ {v} (−{}%)", t.spec.value.unwrap_or(0.0))
        }
        (TargetKind::Milestone, _) => "达成 done".to_owned(),
        (TargetKind::TrendUp, _) => "持续上升 rising".to_owned(),
        (TargetKind::TrendDown, _) => "持续下降 falling".to_owned(),
        (TargetKind::TrendNotUp, _) => "不再上升 not rising".to_owned(),
        (_, None) => "–".to_owned(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Admin-supplied text as literal Markdown: characters that would start inline markup (emphasis, links,
/// code, HTML, table cells) are escaped and line breaks folded, so a name cannot add a row, a link or a
/// script.
pub fn escape_md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // Never at the start of a line here (cells and headings are prefixed), so only inline markup.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn fmt(value: Option<f64>, decimals: i32) -> String {
    value.map_or("–".into(), |v| {
        format!("{v:.*}", decimals.clamp(0, 4) as usize)
    })
}

const ORDINALS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "七"];

impl Report<'_> {
    fn title(&self) -> (String, String) {
        let (zh, en) = self.kind.titles();
        let area = &self.assessment.area;
        (
            format!(
                "{}儿童发展规划（2021—2030年）{}（{}年）",
                area.name_zh, zh, self.year
            ),
            format!(
                "{} children's development plan 2021–2030: {} {}",
                area.name_en,
                en.to_lowercase(),
                self.year
            ),
        )
    }

    fn targets_of(&self, domain_id: i32) -> Vec<&TargetProgress> {
        self.assessment
            .targets
            .iter()
            .filter(|t| t.indicator.domain_id == domain_id)
            .collect()
    }

    fn elapsed(&self) -> f64 {
        (f64::from(self.year - PLAN_START) / f64::from(PLAN_END - PLAN_START)).clamp(0.0, 1.0)
    }

    /// How much of the way from the 2020 value to the target has been covered.
    fn covered(t: &TargetProgress) -> Option<f64> {
        let e = &t.evaluation;
        let base = e.series.iter().find(|p| p.year == PLAN_START)?.value;
        let current = e.progress.current?.value;
        let target = e.target_value?;
        if (target - base).abs() < f64::EPSILON {
            return None;
        }
        Some(((current - base) / (target - base)).clamp(-1.0, 2.0))
    }

    fn unit(t: &TargetProgress) -> &'static str {
        t.indicator.unit.symbol()
    }

    fn counts(&self, targets: &[&TargetProgress]) -> Vec<usize> {
        ProgressStatus::ALL
            .iter()
            .map(|s| {
                targets
                    .iter()
                    .filter(|t| t.evaluation.progress.status == *s)
                    .count()
            })
            .collect()
    }

    fn html(&self) -> AppResult<String> {
        let (title_zh, title_en) = self.title();
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style></head><body>",
            escape(&title_zh),
            STYLE
        );
        let _ = write!(
            h,
            "<h1>{}<br><small>{}</small></h1>",
            escape(&title_zh),
            escape(&title_en)
        );
        let _ = write!(
            h,
            "<p class=\"meta\">数据截至{}年，依据已审核数据 · Approved data up to {}. Method: Open SDG progress measure (see docs/progress.md).</p>",
            self.year, self.year
        );
        if self.kind != ReportKind::Annual {
            let _ = write!(
                h,
                "<p class=\"meta\">规划期已过 {:.0}% · {:.0}% of the plan period (2020–2030) has elapsed; each target shows how much of the way from its 2020 value it has covered.</p>",
                self.elapsed() * 100.0,
                self.elapsed() * 100.0
            );
        }
        h.push_str("<h2>一、总体情况 <small>Summary by domain</small></h2><table class=\"summary\"><tr><th>领域 Domain</th>");
        for s in ProgressStatus::ALL {
            let _ = write!(
                h,
                "<th style=\"color:{}\">{}<br><small>{}</small></th>",
                s.colour(),
                s.label_zh(),
                s.label_en()
            );
        }
        h.push_str("<th>合计 Total</th></tr>");
        for d in self.domains {
            let targets = self.targets_of(d.id);
            let _ = write!(
                h,
                "<tr><td>{} {}</td>",
                escape(&d.name_zh),
                escape(&d.name_en)
            );
            for c in self.counts(&targets) {
                let _ = write!(h, "<td>{c}</td>");
            }
            let _ = write!(h, "<td>{}</td></tr>", targets.len());
        }
        h.push_str("</table>");
        h.push_str("<h2>二、分领域目标进展 <small>Targets by domain</small></h2>");
        for (i, d) in self.domains.iter().enumerate() {
            let _ = write!(
                h,
                "<section class=\"domain\"><h3>（{}）{} <small>{}</small></h3>",
                ORDINALS.get(i).unwrap_or(&""),
                escape(&d.name_zh),
                escape(&d.name_en)
            );
            for t in self.targets_of(d.id) {
                self.html_target(&mut h, t)?;
            }
            h.push_str("</section>");
        }
        h.push_str("<h2>三、预警 <small>Early warnings</small></h2>");
        if self.warnings.is_empty() {
            h.push_str("<p>无 · None.</p>");
        } else {
            h.push_str("<ul class=\"warnings\">");
            for w in self.warnings {
                let _ = write!(
                    h,
                    "<li class=\"{:?}\"><b>{:?}</b> {}</li>",
                    w.warning.severity,
                    w.warning.severity,
                    escape(&w.message)
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</body></html>");
        Ok(h)
    }

    fn html_target(&self, h: &mut String, t: &TargetProgress) -> AppResult<()> {
        let e = &t.evaluation;
        let p = &e.progress;
        let decimals = t.indicator.decimals;
        let unit = Self::unit(t);
        let _ = write!(
            h,
            "<article class=\"target\" id=\"{code}\"><h4>{code} {zh} <small>{en}</small> <span class=\"status\" style=\"background:{colour}\">{szh} · {sen}</span></h4>",
            code = escape(&t.indicator.code),
            zh = escape(&t.indicator.name_zh),
            en = escape(&t.indicator.name_en),
            colour = p.status.colour(),
            szh = p.status.label_zh(),
            sen = p.status.label_en(),
        );
        let _ = write!(
            h,
            "<table class=\"figures\"><tr><th>最新值 Latest</th><th>基期 Base</th><th>目标 Target ({})</th><th>2030年预测 Projection</th><th>{}</th></tr>",
            t.spec.target_year,
            if self.kind == ReportKind::Annual {
                "条款 Clause"
            } else {
                "完成进度/时间进度 Covered / elapsed"
            }
        );
        let target_text = target_text(t, decimals, unit);
        let last_column = if self.kind == ReportKind::Annual {
            escape(&t.indicator.plan_clause)
        } else {
            format!(
                "{} / {:.0}%",
                Self::covered(t).map_or("–".into(), |c| format!("{:.0}%", c * 100.0)),
                self.elapsed() * 100.0
            )
        };
        let _ = write!(
            h,
            "<tr><td>{} {}{unit}</td><td>{} {}{unit}</td><td>{}</td><td>{}{unit}</td><td>{}</td></tr></table>",
            p.current.map_or("–".into(), |c| c.year.to_string()),
            fmt(p.current.map(|c| c.value), decimals),
            p.base.map_or("–".into(), |c| c.year.to_string()),
            fmt(p.base.map(|c| c.value), decimals),
            escape(&target_text),
            fmt(p.projection, decimals),
            last_column,
        );
        if !e.series.is_empty() {
            let title = format!("{} {}", t.indicator.code, t.indicator.name_zh);
            let svg = charts::trend_svg(&Trend {
                title: &title,
                unit,
                series: &e.series,
                target: e.target_value,
                target_year: t.spec.target_year,
                projection: p.projection,
            })?;
            let _ = write!(h, "<figure>{svg}</figure>");
        }
        if t.spec.scope == TargetScope::EachTownship && !e.townships.is_empty() {
            let bars: Vec<(String, f64)> = e
                .townships
                .iter()
                .filter_map(|r| r.progress.current.map(|c| (r.region.code.clone(), c.value)))
                .collect();
            let svg = charts::townships_svg(
                &format!(
                    "{} 分乡镇（街道）Township breakdown {}",
                    t.indicator.code, self.year
                ),
                &bars,
                e.target_value,
                t.spec.kind.direction() > 0,
            )?;
            let below: Vec<String> = e
                .townships
                .iter()
                .filter(|r| r.below_floor)
                .map(|r| format!("{} {}", r.region.code, r.region.name_zh))
                .collect();
            let _ = write!(
                h,
                "<figure>{svg}</figure><p>{} 个乡镇（街道）低于目标 · {} townships below the floor{}{}</p>",
                below.len(),
                below.len(),
                if below.is_empty() { "" } else { ": " },
                escape(&below.join(", "))
            );
        }
        let mine: Vec<&EarlyWarning> = self
            .warnings
            .iter()
            .filter(|w| w.indicator.id == t.indicator.id)
            .collect();
        if !mine.is_empty() {
            h.push_str("<ul class=\"warnings\">");
            for w in mine {
                let _ = write!(
                    h,
                    "<li class=\"{:?}\">{}</li>",
                    w.warning.severity,
                    escape(&w.message)
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</article>");
        Ok(())
    }

    fn markdown(&self) -> String {
        let (title_zh, title_en) = self.title();
        let mut m = String::new();
        let _ = writeln!(m, "# {title_zh}\n\n_{title_en}_\n");
        let _ = writeln!(
            m,
            "Approved data up to {}; method: Open SDG progress measure (docs/progress.md). Charts are in the HTML report.\n",
            self.year
        );
        if self.kind != ReportKind::Annual {
            let _ = writeln!(
                m,
                "规划期已过 {:.0}% · {:.0}% of the plan period has elapsed.\n",
                self.elapsed() * 100.0,
                self.elapsed() * 100.0
            );
        }
        let _ = writeln!(m, "## 一、总体情况 Summary by domain\n");
        let header: Vec<String> = ProgressStatus::ALL
            .iter()
            .map(|s| format!("{} {}", s.label_zh(), s.label_en()))
            .collect();
        let _ = writeln!(m, "| 领域 Domain | {} | 合计 Total |", header.join(" | "));
        let _ = writeln!(m, "|---|{}---|", "---|".repeat(ProgressStatus::ALL.len()));
        for d in self.domains {
            let targets = self.targets_of(d.id);
            let counts: Vec<String> = self
                .counts(&targets)
                .iter()
                .map(|c| c.to_string())
                .collect();
            let _ = writeln!(
                m,
                "| {} {} | {} | {} |",
                escape_md(&d.name_zh),
                escape_md(&d.name_en),
                counts.join(" | "),
                targets.len()
            );
        }
        let _ = writeln!(m, "\n## 二、分领域目标进展 Targets by domain");
        for (i, d) in self.domains.iter().enumerate() {
            let _ = writeln!(
                m,
                "\n### （{}）{} {}\n",
                ORDINALS.get(i).unwrap_or(&""),
                escape_md(&d.name_zh),
                escape_md(&d.name_en)
            );
            let _ = writeln!(
                m,
                "| 指标 Indicator | 最新值 Latest | 目标 Target | 状态 Status | 2030年预测 Projection |\n|---|---|---|---|---|"
            );
            for t in self.targets_of(d.id) {
                let p = &t.evaluation.progress;
                let dec = t.indicator.decimals;
                let _ = writeln!(
                    m,
                    "| {} {} ({}) | {} ({}) | {} | {} {} | {} |",
                    escape_md(&t.indicator.code),
                    escape_md(&t.indicator.name_zh),
                    escape_md(&t.indicator.name_en),
                    fmt(p.current.map(|c| c.value), dec),
                    p.current.map_or("–".into(), |c| c.year.to_string()),
                    target_text(t, dec, Self::unit(t)),
                    p.status.label_zh(),
                    p.status.label_en(),
                    fmt(p.projection, dec),
                );
            }
        }
        let _ = writeln!(m, "\n## 三、预警 Early warnings\n");
        for w in self.warnings {
            let _ = writeln!(
                m,
                "- **{:?}** {}",
                w.warning.severity,
                escape_md(&w.message)
            );
        }
        if self.warnings.is_empty() {
            let _ = writeln!(m, "无 · None.");
        }
        m
    }
}

/// The series of a target, for callers that chart it elsewhere (the dashboard).
pub fn trend_of(t: &TargetProgress) -> AppResult<String> {
    charts::trend_svg(&Trend {
        title: &format!("{} {}", t.indicator.code, t.indicator.name_zh),
        unit: Report::unit(t),
        series: &t.evaluation.series,
        target: t.evaluation.target_value,
        target_year: t.spec.target_year,
        projection: t.evaluation.progress.projection,
    })
}

const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC','PingFang SC',sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}\
h1 small,h2 small,h3 small,h4 small{color:#666;font-weight:normal}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:center}\
.status{color:#fff;border-radius:4px;padding:2px 6px;font-size:.8em}\
.warnings li.High{color:#b71c1c}.warnings li.Medium{color:#e65100}.meta{color:#555}\
figure{margin:.5em 0}article.target{border-top:1px solid #eee;padding-top:.5em}";
