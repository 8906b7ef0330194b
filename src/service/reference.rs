//! Reference data — departments, domains, dimension codes, indicators, targets and regions — read whole
//! into one immutable [`Reference`], and answered from memory: they are small (a few thousand rows at
//! most) and change rarely, while nearly every request needs some of them.
//!
//! A reference is labelled with the [`Versions`] it was read at: the newest `catalogue.changed` and
//! `observations.published` event ids. Every catalogue write and every approval records its event in the
//! same transaction (see [`outbox`](crate::service::outbox)), so comparing two indexed maxima tells any
//! replica whether its copy is still current. The label is read *before* the tables, so a copy is never
//! older than its label says.

use crate::auth::{Identity, policy};
use crate::error::{AppError, AppResult};
use crate::service::catalogue::IndicatorFilter;
use crate::service::regions::RegionFilter;
use crate::vocabulary::{EventKind, RegionLevel};
use entity::{department, dimension_code, domain, event, indicator, region, target};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryOrder};
use std::collections::HashMap;

/// What a copy of the reference data and everything derived from published values was read at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Versions {
    /// The newest `catalogue.changed` event id (0: none yet).
    pub catalogue: i64,
    /// The newest `observations.published` event id (0: none yet).
    pub data: i64,
}

fn newest(kind: EventKind) -> SelectStatement {
    Query::select()
        .expr(Expr::col(event::Column::Id).max())
        .from(event::Entity)
        .and_where(event::Column::Kind.eq(kind))
        .to_owned()
}

/// The current versions: one statement of two index lookups (`ix_event_kind_id`).
pub async fn versions(db: &impl ConnectionTrait) -> AppResult<Versions> {
    let statement = Query::select()
        .expr_as(Expr::expr(newest(EventKind::CatalogueChanged)), "catalogue")
        .expr_as(Expr::expr(newest(EventKind::ObservationsPublished)), "data")
        .to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .ok_or_else(|| AppError::Internal("the versions query returned no row".into()))?;
    let read = |column: &str| -> AppResult<i64> {
        Ok(row
            .try_get::<Option<i64>>("", column)
            .map_err(|e| AppError::Internal(format!("reading the {column} version: {e}")))?
            .unwrap_or(0))
    };
    Ok(Versions {
        catalogue: read("catalogue")?,
        data: read("data")?,
    })
}

/// The reference data at one pair of versions.
#[derive(Debug, Default)]
pub struct Reference {
    pub versions: Versions,
    /// In code order.
    departments: Vec<department::Model>,
    /// In plan order.
    domains: Vec<domain::Model>,
    /// By dimension, then position.
    dimension_codes: Vec<dimension_code::Model>,
    /// In code order.
    indicators: Vec<indicator::Model>,
    /// By indicator id, in id order.
    targets: HashMap<i32, Vec<target::Model>>,
    /// In code order.
    regions: Vec<region::Model>,
    region_by_id: HashMap<i32, usize>,
    region_by_code: HashMap<String, usize>,
    /// Positions of each region's direct children, in code order.
    children: HashMap<i32, Vec<usize>>,
}

impl Reference {
    /// Reads the whole reference data, labelled with `versions` (read just before).
    pub async fn load(db: &impl ConnectionTrait, versions: Versions) -> AppResult<Self> {
        let departments = department::Entity::find()
            .order_by_asc(department::Column::Code)
            .all(db)
            .await?;
        let domains = domain::Entity::find()
            .order_by_asc(domain::Column::Position)
            .all(db)
            .await?;
        let dimension_codes = dimension_code::Entity::find()
            .order_by_asc(dimension_code::Column::Dimension)
            .order_by_asc(dimension_code::Column::Position)
            .all(db)
            .await?;
        let indicators = indicator::Entity::find()
            .order_by_asc(indicator::Column::Code)
            .all(db)
            .await?;
        let mut targets: HashMap<i32, Vec<target::Model>> = HashMap::new();
        for t in target::Entity::find()
            .order_by_asc(target::Column::Id)
            .all(db)
            .await?
        {
            targets.entry(t.indicator_id).or_default().push(t);
        }
        let regions = region::Entity::find()
            .order_by_asc(region::Column::Code)
            .all(db)
            .await?;
        Ok(Self::assemble(
            versions,
            departments,
            domains,
            dimension_codes,
            indicators,
            targets,
            regions,
        ))
    }

    /// Reads the current versions and then the data: for one-off uses (the command line, jobs).
    pub async fn load_current(db: &impl ConnectionTrait) -> AppResult<Self> {
        let at = versions(db).await?;
        Self::load(db, at).await
    }

    fn assemble(
        versions: Versions,
        departments: Vec<department::Model>,
        domains: Vec<domain::Model>,
        dimension_codes: Vec<dimension_code::Model>,
        indicators: Vec<indicator::Model>,
        targets: HashMap<i32, Vec<target::Model>>,
        regions: Vec<region::Model>,
    ) -> Self {
        let mut reference = Reference {
            versions,
            departments,
            domains,
            dimension_codes,
            indicators,
            targets,
            ..Default::default()
        };
        for (at, r) in regions.iter().enumerate() {
            reference.region_by_id.insert(r.id, at);
            reference.region_by_code.insert(r.code.clone(), at);
            if let Some(parent) = r.parent_id {
                // Regions are in code order, so each list of children is too.
                reference.children.entry(parent).or_default().push(at);
            }
        }
        reference.regions = regions;
        reference
    }

    /// Every department, in code order.
    pub fn departments(&self) -> &[department::Model] {
        &self.departments
    }

    /// The department with this code.
    pub fn department(&self, code: &str) -> Option<&department::Model> {
        self.departments.iter().find(|d| d.code == code)
    }

    /// The department with this id.
    pub fn department_by_id(&self, id: i32) -> Option<&department::Model> {
        self.departments.iter().find(|d| d.id == id)
    }

    /// The department with this code; an unknown code is a `BAD_USER_INPUT` error naming `field`.
    pub fn require_department(&self, field: &str, code: &str) -> AppResult<&department::Model> {
        self.department(code)
            .ok_or_else(|| crate::service::catalogue::unknown_department(field, code))
    }

    /// The plan's domains in plan order.
    pub fn domains(&self) -> &[domain::Model] {
        &self.domains
    }

    /// The domain with this id.
    pub fn domain_by_id(&self, id: i32) -> Option<&domain::Model> {
        self.domains.iter().find(|d| d.id == id)
    }

    /// The domain with this code; an unknown code is a `BAD_USER_INPUT` error naming `field`.
    pub fn require_domain(&self, field: &str, code: &str) -> AppResult<&domain::Model> {
        self.domains
            .iter()
            .find(|d| d.code == code)
            .ok_or_else(|| crate::service::catalogue::unknown_domain(field, code))
    }

    /// The code lists of the disaggregation dimensions.
    pub fn dimension_codes(&self) -> &[dimension_code::Model] {
        &self.dimension_codes
    }

    /// Every indicator, in code order, whoever may see it: for callers that apply the policy themselves.
    pub fn all_indicators(&self) -> &[indicator::Model] {
        &self.indicators
    }

    /// The indicator with this id, whoever may see it.
    pub fn indicator_by_id(&self, id: i32) -> Option<&indicator::Model> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// Indicators matching the filter that the caller may see, in code order. Unknown domain or
    /// department codes are errors that name the code.
    pub fn indicators(
        &self,
        identity: &Identity,
        filter: &IndicatorFilter,
    ) -> AppResult<Vec<&indicator::Model>> {
        let domain = match &filter.domain {
            Some(code) => Some(self.require_domain("filter.domain", code)?.id),
            None => None,
        };
        let department = match &filter.department {
            Some(code) => Some(self.require_department("filter.department", code)?.id),
            None => None,
        };
        let needle = filter.search.as_deref().map(str::to_lowercase);
        Ok(self
            .indicators
            .iter()
            .filter(|i| domain.is_none_or(|d| i.domain_id == d))
            .filter(|i| department.is_none_or(|d| i.owner_department_id == d))
            .filter(|i| policy::may_see_indicator(identity, i))
            .filter(|i| {
                needle.as_deref().is_none_or(|n| {
                    i.code.to_lowercase().contains(n)
                        || i.name_en.to_lowercase().contains(n)
                        || i.name_zh.contains(n)
                })
            })
            .collect())
    }

    /// The indicator with this code, if it exists and the caller may see it. A hidden indicator and a
    /// missing one give the same answer.
    pub fn indicator(&self, identity: &Identity, code: &str) -> Option<&indicator::Model> {
        self.indicators
            .iter()
            .find(|i| i.code == code)
            .filter(|i| policy::may_see_indicator(identity, i))
    }

    /// The targets of an indicator, in id order.
    pub fn targets_of(&self, indicator_id: i32) -> &[target::Model] {
        self.targets
            .get(&indicator_id)
            .map_or(&[][..], Vec::as_slice)
    }

    /// Every region, in code order.
    pub fn all_regions(&self) -> &[region::Model] {
        &self.regions
    }

    /// The region with this code.
    pub fn region(&self, code: &str) -> Option<&region::Model> {
        self.region_by_code.get(code).map(|at| &self.regions[*at])
    }

    /// The region with this id.
    pub fn region_by_id(&self, id: i32) -> Option<&region::Model> {
        self.region_by_id.get(&id).map(|at| &self.regions[*at])
    }

    /// The region with this code; an unknown code is a `BAD_USER_INPUT` error naming `field`.
    pub fn require_region(&self, field: &str, code: &str) -> AppResult<&region::Model> {
        self.region(code)
            .ok_or_else(|| crate::service::regions::unknown_region(field, code))
    }

    /// Regions with these codes; the first unknown code is an error naming it and `field`.
    pub fn resolve_region_codes(
        &self,
        field: &str,
        codes: &[String],
    ) -> AppResult<Vec<&region::Model>> {
        codes
            .iter()
            .map(|code| self.require_region(field, code))
            .collect()
    }

    /// The direct children of a region, in code order.
    pub fn children(&self, region_id: i32) -> impl Iterator<Item = &region::Model> {
        self.children
            .get(&region_id)
            .into_iter()
            .flatten()
            .map(|at| &self.regions[*at])
    }

    /// Ids of the regions of one level.
    pub fn region_ids_of_level(&self, level: RegionLevel) -> Vec<i32> {
        self.regions
            .iter()
            .filter(|r| r.level == level)
            .map(|r| r.id)
            .collect()
    }

    /// Regions matching the filter, in code order. An unknown parent code is an error naming it.
    pub fn regions(&self, filter: &RegionFilter) -> AppResult<Vec<&region::Model>> {
        let parent = match &filter.parent {
            Some(code) => Some(self.require_region("filter.parent", code)?.id),
            None => None,
        };
        Ok(self
            .regions
            .iter()
            .filter(|r| filter.level.is_none_or(|l| r.level == l))
            .filter(|r| parent.is_none_or(|p| r.parent_id == Some(p)))
            .filter(|r| filter.residence.is_none_or(|s| r.residence == s))
            .filter(|r| filter.year.is_none_or(|y| existed_in(r, y)))
            .collect())
    }

    /// The area an assessment covers: the region with this code, or else the only city.
    pub fn area(&self, code: Option<&str>) -> AppResult<&region::Model> {
        if let Some(code) = code {
            return self.require_region("region", code);
        }
        let cities: Vec<&region::Model> = self
            .regions
            .iter()
            .filter(|r| r.level == RegionLevel::City)
            .collect();
        match cities.as_slice() {
            [only] => Ok(only),
            [] => Err(AppError::NotFound(
                "there is no city region yet; import the regions first".into(),
            )),
            many => Err(AppError::invalid(
                "region",
                "",
                format!(
                    "a city code, one of {}",
                    many.iter()
                        .map(|c| c.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// Whether the region existed in `year`: no bound on a side means open on that side.
pub fn existed_in(region: &region::Model, year: i32) -> bool {
    region.valid_from.is_none_or(|from| from <= year) && region.valid_to.is_none_or(|to| to >= year)
}

#[async_trait::async_trait]
impl crate::auth::authenticate::DepartmentLookup for Reference {
    async fn department(&self, code: &str) -> AppResult<Option<department::Model>> {
        Ok(Reference::department(self, code).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(id: i32, code: &str, parent: Option<i32>, level: RegionLevel) -> region::Model {
        region::Model {
            id,
            code: code.into(),
            name_zh: code.into(),
            name_en: code.into(),
            level,
            residence: crate::vocabulary::Residence::Total,
            parent_id: parent,
            valid_from: None,
            valid_to: (code == "T2").then_some(2023),
        }
    }

    fn sample() -> Reference {
        Reference::assemble(
            Versions::default(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            HashMap::new(),
            vec![
                region(1, "C", None, RegionLevel::City),
                region(3, "T1", Some(1), RegionLevel::Township),
                region(2, "T2", Some(1), RegionLevel::Township),
                region(4, "V1", Some(3), RegionLevel::Village),
            ],
        )
    }

    #[test]
    fn regions_are_found_by_code_id_and_parent() {
        let r = sample();
        assert_eq!(r.region("T2").map(|r| r.id), Some(2));
        assert_eq!(r.region_by_id(4).map(|r| r.code.as_str()), Some("V1"));
        let children: Vec<&str> = r.children(1).map(|r| r.code.as_str()).collect();
        assert_eq!(children, ["T1", "T2"]);
        assert_eq!(r.area(None).map(|a| a.id).ok(), Some(1));
        assert!(r.require_region("region", "X").is_err());
    }

    #[test]
    fn the_region_filter_applies_level_parent_and_year() {
        let r = sample();
        let filter = RegionFilter {
            level: Some(RegionLevel::Township),
            parent: Some("C".into()),
            year: Some(2024),
            ..Default::default()
        };
        let found: Vec<&str> = r
            .regions(&filter)
            .unwrap()
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(found, ["T1"], "T2 was merged after 2023");
        let unknown = RegionFilter {
            parent: Some("nowhere".into()),
            ..Default::default()
        };
        assert!(r.regions(&unknown).is_err());
    }
}
