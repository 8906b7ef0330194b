//! Root fields of monitoring: progress per target, the summary by domain, early warnings.

use crate::graphql::context::{db, identity, loaders};
use crate::graphql::progress_types::{
    DomainSummary, EarlyWarning, ProgressSummary, StatusCount, StatusLabel, TargetProgress,
    YearCoverage,
};
use crate::graphql::types::Region;
use crate::monitor::{ProgressStatus, Severity};
use crate::service::progress::{self, ProgressFilter};
use async_graphql::{Context, InputObject, Object, Result};

/// Which targets to assess, where and when.
#[derive(InputObject, Default)]
#[graphql(name = "ProgressFilter")]
pub struct ProgressFilterInput {
    /// Domain code.
    pub domain: Option<String>,
    /// Owner department code.
    pub department: Option<String>,
    /// Indicator codes.
    pub indicators: Option<Vec<String>>,
    /// The area (default: the only city).
    pub region: Option<String>,
    /// The evaluation year (default: the latest year in which at least half of the targets have approved
    /// values; see `summary.years`).
    pub year: Option<i32>,
}

impl From<ProgressFilterInput> for ProgressFilter {
    fn from(f: ProgressFilterInput) -> Self {
        ProgressFilter {
            domain: f.domain,
            department: f.department,
            indicators: f.indicators,
            region: f.region,
            year: f.year,
        }
    }
}

fn counts(statuses: impl Iterator<Item = ProgressStatus> + Clone) -> Vec<StatusCount> {
    ProgressStatus::ALL
        .iter()
        .map(|s| StatusCount {
            status: *s,
            count: statuses.clone().filter(|x| x == s).count() as i32,
        })
        .collect()
}

#[derive(Default)]
pub struct ProgressQuery;

#[Object]
impl ProgressQuery {
    /// Every progress status with its labels and colour, best first.
    async fn progress_statuses(&self) -> Vec<StatusLabel> {
        ProgressStatus::ALL
            .iter()
            .copied()
            .map(StatusLabel)
            .collect()
    }

    /// One row per target: latest value, baseline, target, status, projection. The dashboard query.
    #[graphql(complexity = "crate::graphql::cost::ASSESSMENT + child_complexity")]
    async fn progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which targets, where and when (default: every target the caller may see, in the city, in the default year)."
        )]
        filter: Option<ProgressFilterInput>,
    ) -> Result<Vec<TargetProgress>> {
        let filter: ProgressFilter = filter.unwrap_or_default().into();
        let a = loaders(ctx)?.loader().assessment(&filter).await?;
        let (area, year) = (a.area.clone(), a.year);
        Ok(a.targets
            .iter()
            .cloned()
            .map(|model| TargetProgress {
                model,
                region: area.clone(),
                year,
            })
            .collect())
    }

    /// Counts of targets per status per domain.
    #[graphql(complexity = "crate::graphql::cost::ASSESSMENT + child_complexity")]
    async fn summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Evaluation year (default: the latest year in which at least half of the targets have approved values)."
        )]
        year: Option<i32>,
        #[graphql(desc = "Region code (default: the only city).")] region: Option<String>,
    ) -> Result<ProgressSummary> {
        let filter = ProgressFilter {
            year,
            region,
            ..ProgressFilter::default()
        };
        let a = loaders(ctx)?.loader().assessment(&filter).await?;
        let domains = progress::summarise(&a)
            .into_iter()
            .map(|(domain_id, by_status)| {
                let total = by_status.values().sum::<usize>() as i32;
                DomainSummary {
                    domain_id,
                    counts: ProgressStatus::ALL
                        .iter()
                        .map(|s| StatusCount {
                            status: *s,
                            count: by_status.get(s).copied().unwrap_or(0) as i32,
                        })
                        .collect(),
                    total,
                }
            })
            .collect();
        Ok(ProgressSummary {
            year: a.year,
            years: a
                .coverage
                .iter()
                .map(|c| YearCoverage {
                    year: c.year,
                    targets_with_values: c.targets_with_values as i32,
                    targets: a.targets.len() as i32,
                })
                .collect(),
            counts: counts(a.targets.iter().map(|t| t.evaluation.progress.status)),
            region: Region(a.area.clone()),
            domains,
        })
    }

    /// Findings that need attention for `year`, most severe first: off-track or deteriorating targets,
    /// townships below a floor, breaches of a maintained level, implausible jumps, missing values.
    #[graphql(complexity = "crate::graphql::cost::ASSESSMENT + child_complexity")]
    async fn early_warnings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Evaluation year (default: as for `summary`).")] year: Option<i32>,
        #[graphql(desc = "The least severe finding to list (default: LOW, everything).")] severity: Option<Severity>,
        #[graphql(desc = "Region code (default: the only city).")] region: Option<String>,
    ) -> Result<Vec<EarlyWarning>> {
        let filter = ProgressFilter {
            year,
            region,
            ..ProgressFilter::default()
        };
        let a = loaders(ctx)?.loader().assessment(&filter).await?;
        let db = db(ctx)?;
        let found = progress::warnings_of(db, &a, severity.unwrap_or(Severity::Low)).await?;
        // Failing sources come first: they are High, and they explain missing values.
        let failing = crate::sources::source_warnings(db, identity(ctx)).await?;
        Ok(failing
            .into_iter()
            .map(EarlyWarning::Source)
            .chain(found.into_iter().map(EarlyWarning::Target))
            .collect())
    }
}
