//! Building a report: gather the assessment and warnings through the policy, then write HTML or Markdown.

use crate::auth::Identity;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::monitor::Severity;
use crate::report::view;
use crate::service::progress::{self, ProgressFilter, TargetProgress};
use crate::service::snapshot::Snapshot;
use askama::Template;

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

    /// The report's name in Chinese and English.
    pub fn titles(self) -> (&'static str, &'static str) {
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

/// Renders the report of `kind` for `year` with what `identity` may read, over `snapshot`'s catalogue.
pub async fn render(
    db: &crate::service::Db,
    snapshot: &Snapshot,
    identity: &Identity,
    settings: &Settings,
    request: ReportRequest,
) -> AppResult<String> {
    let filter = ProgressFilter {
        year: Some(request.year),
        region: request.region,
        ..ProgressFilter::default()
    };
    let assessment = snapshot.assessment(db, identity, &filter).await?;
    let warnings = progress::warnings_of(db, &assessment, Severity::Low).await?;
    let domains = snapshot.reference.domains().to_vec();
    let breakdowns = breakdowns_of(db, &assessment, request.year).await?;
    // What each department the reader may see owes for the year (a person without a department sees
    // none).
    let completeness = match crate::service::due::due_of_all(
        db,
        &snapshot.reference,
        settings,
        identity,
        request.year,
    )
    .await
    {
        Ok(due) => due,
        Err(AppError::Forbidden(_) | AppError::Unauthenticated(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let plan = settings.plan.clone();
    // Charts and templates are CPU work: off the runtime, like the assessment.
    crate::service::compute::run("report", move |_| {
        let mut view = view::build(request.kind, &plan, &assessment, &warnings, &domains)?;
        view::add_breakdowns(&mut view, &breakdowns);
        view::add_completeness(&mut view, &completeness);
        let rendered = match request.format {
            ReportFormat::Html => HtmlReport { v: &view }.render(),
            ReportFormat::Md => MarkdownReport { v: &view }.render(),
        };
        rendered.map_err(|e| AppError::Internal(format!("rendering the report: {e}")))
    })
    .await?
}

/// The latest published values of each target's breakdowns at the area (boys and girls, urban and
/// rural), as the reader may read them: by indicator code, one pair per dimension the indicator has.
async fn breakdowns_of(
    db: &crate::service::Db,
    assessment: &progress::Assessment,
    year: i32,
) -> AppResult<Vec<view::Breakdown>> {
    let (targets, area) = (&assessment.targets, assessment.area.id);
    use crate::service::observations::{SeriesKey, load_series};
    let pairs = |t: &TargetProgress| {
        let mut out = Vec::new();
        if t.indicator.by_sex {
            out.push(("sex", ["M", "F"]));
        }
        if t.indicator.by_residence {
            out.push(("residence", ["U", "R"]));
        }
        out
    };
    let key = |t: &TargetProgress, dimension: &str, code: &str| {
        let mut k = SeriesKey::totals(t.indicator.id, area);
        match dimension {
            "sex" => k.sex = code.to_owned(),
            _ => k.residence = code.to_owned(),
        }
        k
    };
    let keys: Vec<SeriesKey> = targets
        .iter()
        .flat_map(|t: &TargetProgress| {
            pairs(t)
                .into_iter()
                .flat_map(move |(d, codes)| codes.map(|c| key(t, d, c)))
        })
        .collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let series = load_series(db, &assessment.scope, &keys).await?;
    let latest = |k: &SeriesKey| {
        series.get(k).and_then(|records| {
            records
                .iter()
                .filter(|r| r.model.year <= year)
                .max_by_key(|r| r.model.year)
                .and_then(|r| r.value().map(|v| (r.model.year, v)))
        })
    };
    let mut out = Vec::new();
    for t in targets.iter() {
        for (dimension, [a, b]) in pairs(t) {
            out.push(view::Breakdown {
                indicator: t.indicator.code.clone(),
                dimension,
                first: (a, latest(&key(t, dimension, a))),
                second: (b, latest(&key(t, dimension, b))),
                decimals: t.indicator.decimals,
                unit: t.indicator.unit.symbol(),
            });
        }
    }
    Ok(out)
}

/// What to render.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    pub year: i32,
    pub kind: ReportKind,
    pub format: ReportFormat,
    /// The area (default: the only city).
    pub region: Option<String>,
}

/// The HTML report (`templates/report.html`, escaped as HTML).
#[derive(Template)]
#[template(path = "report.html")]
struct HtmlReport<'a> {
    v: &'a view::ReportView,
}

/// The Markdown report (`templates/report.md`, escaped as Markdown).
#[derive(Template)]
#[template(path = "report.md")]
struct MarkdownReport<'a> {
    v: &'a view::ReportView,
}

/// The series of a target, for callers that chart it elsewhere (the dashboard).
pub fn trend_of(t: &TargetProgress) -> AppResult<String> {
    view::trend_svg(t)
}

/// The report's stylesheet, inlined so that the file stands alone.
pub const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC','PingFang SC',sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}\
h1 small,h2 small,h3 small,h4 small{color:#666;font-weight:normal}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:center}\
.status{color:#fff;border-radius:4px;padding:2px 6px;font-size:.8em}\
.warnings li.High{color:#b71c1c}.warnings li.Medium{color:#e65100}.meta{color:#555}\
figure{margin:.5em 0}article.target{border-top:1px solid #eee;padding-top:.5em}\
.narrative{background:#f4f6f8;border-left:4px solid #1f3a5f;padding:.5em 1em}\
table.townships tr.below td{color:#b71c1c}\
@page{size:A4;margin:18mm 14mm 16mm;@bottom-center{content:counter(page) ' / ' counter(pages);font-size:9pt;color:#555}}\
@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}\
section.domain{break-before:page}figure,table,article.target h4{break-inside:avoid}h2,h3,h4{break-after:avoid}\
a{color:inherit;text-decoration:none}}";
