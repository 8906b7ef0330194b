//! What a department owes for a year: every indicator it owns × every region the plan expects it for
//! (the city; each township where a target is per township) × every breakdown the indicator has (sex,
//! urban/rural, age groups, at city level), with where each stands — missing, pending, rejected or
//! approved — last year's approved value beside it, and the reporting deadline. The Reporting page, the
//! API (`reportingDue`) and the template ("a template of what is missing") read this one list.

use crate::auth::{Identity, policy};
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::service::reference::{Reference, existed_in};
use crate::vocabulary::{AGE_PARTITION, RegionLevel, Status, TOTAL, TargetScope};
use entity::observation::{Key, SeriesKey};
use entity::{indicator, observation, region};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Where one expected value stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CellStatus {
    Missing,
    Rejected,
    Pending,
    Approved,
}

impl CellStatus {
    pub fn code(self) -> &'static str {
        match self {
            CellStatus::Missing => "missing",
            CellStatus::Rejected => "rejected",
            CellStatus::Pending => "pending",
            CellStatus::Approved => "approved",
        }
    }
}

/// One value the plan expects.
#[derive(Clone, Debug)]
pub struct DueCell {
    pub indicator: indicator::Model,
    pub region: region::Model,
    pub sex: String,
    pub age_group: String,
    pub residence: String,
    pub status: CellStatus,
    /// The value stored for the year (newest revision), if any.
    pub value: Option<f64>,
    /// Last year's approved value, for reference.
    pub last_year: Option<f64>,
}

/// What a department owes for a year.
#[derive(Clone, Debug)]
pub struct Due {
    pub department: entity::department::Model,
    pub year: i32,
    pub deadline: chrono::NaiveDate,
    pub cells: Vec<DueCell>,
    /// Indicators of the department with some value for the year, expected or not (a township's value
    /// of a city-level indicator counts here, not among the cells).
    pub reported: HashSet<i32>,
}

/// How many expected values stand where.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub expected: usize,
    pub missing: usize,
    pub pending: usize,
    pub rejected: usize,
    pub approved: usize,
}

impl Counts {
    pub fn of(cells: &[DueCell]) -> Self {
        let mut counts = Counts {
            expected: cells.len(),
            ..Default::default()
        };
        for c in cells {
            *match c.status {
                CellStatus::Missing => &mut counts.missing,
                CellStatus::Pending => &mut counts.pending,
                CellStatus::Rejected => &mut counts.rejected,
                CellStatus::Approved => &mut counts.approved,
            } += 1;
        }
        counts
    }

    /// Every expected value has been sent and stands pending or approved.
    pub fn complete(&self) -> bool {
        self.missing == 0 && self.rejected == 0
    }
}

/// One indicator's share of what is due.
#[derive(Clone, Debug)]
pub struct IndicatorDue {
    pub indicator: indicator::Model,
    pub department: entity::department::Model,
    pub deadline: chrono::NaiveDate,
    /// Some value exists for the year, expected or not.
    pub reported: bool,
    pub cells: Vec<DueCell>,
}

impl Due {
    pub fn counts(&self) -> Counts {
        Counts::of(&self.cells)
    }

    /// The cells by indicator, in code order.
    pub fn by_indicator(&self) -> Vec<IndicatorDue> {
        let mut out: BTreeMap<&str, IndicatorDue> = BTreeMap::new();
        for cell in &self.cells {
            out.entry(&cell.indicator.code)
                .or_insert_with(|| IndicatorDue {
                    indicator: cell.indicator.clone(),
                    department: self.department.clone(),
                    deadline: self.deadline,
                    reported: self.reported.contains(&cell.indicator.id),
                    cells: Vec::new(),
                })
                .cells
                .push(cell.clone());
        }
        out.into_values().collect()
    }
}

/// The reporting deadline of `year`: `reporting.deadlines` names it per year, else the
/// `reporting.deadline` day (`03-31`) of the next year.
pub fn deadline_of(settings: &Settings, year: i32) -> chrono::NaiveDate {
    if let Some(day) = settings.reporting.deadlines.get(&year.to_string())
        && let Ok(date) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
    {
        return date;
    }
    let day = format!("{}-{}", year + 1, settings.reporting.deadline);
    chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .unwrap_or_else(|_| chrono::NaiveDate::from_ymd_opt(year + 1, 3, 31).unwrap_or_default())
}

/// The breakdowns an indicator is expected in at city level, besides its total: `(sex, age, residence)`.
fn breakdowns(
    indicator: &indicator::Model,
    ages: &BTreeSet<String>,
) -> Vec<(String, String, String)> {
    let t = || TOTAL.to_owned();
    let mut out = vec![(t(), t(), t())];
    if indicator.by_sex {
        out.extend(["M", "F"].map(|s| (s.to_owned(), t(), t())));
    }
    if indicator.by_residence {
        out.extend(["U", "R"].map(|r| (t(), t(), r.to_owned())));
    }
    if indicator.by_age {
        // The groups the indicator was reported in before, else the partition of childhood.
        let groups: Vec<String> = if ages.is_empty() {
            AGE_PARTITION.iter().map(|a| (*a).to_owned()).collect()
        } else {
            ages.iter().cloned().collect()
        };
        out.extend(groups.into_iter().map(|a| (t(), a, t())));
    }
    out
}

/// What `department` owes for `year`, as `identity` may see it (its own department, or a coordinator).
pub async fn due(
    db: &impl ConnectionTrait,
    reference: &Reference,
    settings: &Settings,
    identity: &Identity,
    department: &str,
    year: i32,
    only: Option<&[String]>,
) -> AppResult<Due> {
    let member = policy::require_member(identity)?;
    let dept = reference
        .require_department("department", department)?
        .clone();
    if dept.id != member.department_id && !policy::reads_all_department_records(identity) {
        return Err(AppError::Forbidden(format!(
            "{} may see what its own department owes, not {}'s",
            member.department, dept.code
        )));
    }
    let mut found = owed(db, reference, settings, identity, vec![dept], year, only).await?;
    Ok(found.remove(0))
}

/// What every department the caller answers for owes for `year` (coordinators: all; a department: its
/// own), in one read of the database.
pub async fn due_of_all(
    db: &impl ConnectionTrait,
    reference: &Reference,
    settings: &Settings,
    identity: &Identity,
    year: i32,
) -> AppResult<Vec<Due>> {
    let member = policy::require_member(identity)?;
    let all = policy::reads_all_department_records(identity);
    let departments = reference
        .departments()
        .iter()
        .filter(|d| all || d.id == member.department_id)
        .cloned()
        .collect();
    owed(db, reference, settings, identity, departments, year, None).await
}

/// The list of what `departments` owe; the caller has checked they may see it.
async fn owed(
    db: &impl ConnectionTrait,
    reference: &Reference,
    settings: &Settings,
    identity: &Identity,
    departments: Vec<entity::department::Model>,
    year: i32,
    only: Option<&[String]>,
) -> AppResult<Vec<Due>> {
    let owners: HashSet<i32> = departments.iter().map(|d| d.id).collect();
    let indicators: Vec<indicator::Model> = reference
        .indicators(identity, &Default::default())?
        .into_iter()
        .filter(|i| owners.contains(&i.owner_department_id))
        .filter(|i| only.is_none_or(|codes| codes.contains(&i.code)))
        .cloned()
        .collect();
    let city = reference.area(None)?.clone();
    let townships: Vec<region::Model> = reference
        .children(city.id)
        .filter(|r| r.level == RegionLevel::Township && existed_in(r, year))
        .cloned()
        .collect();
    let ids: Vec<i32> = indicators.iter().map(|i| i.id).collect();
    // The age groups each indicator was reported in before.
    let mut ages: HashMap<i32, BTreeSet<String>> = HashMap::new();
    for (indicator_id, age) in observation::Entity::find()
        .select_only()
        .column(observation::Column::IndicatorId)
        .column(observation::Column::AgeGroup)
        .distinct()
        .filter(observation::Column::IndicatorId.is_in(ids.clone()))
        .filter(observation::Column::AgeGroup.ne(TOTAL))
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
    {
        ages.entry(indicator_id).or_default().insert(age);
    }
    // Any value at all for the year, at an expected key or not: what `reported` has always meant.
    let reported: HashSet<i32> = observation::Entity::find()
        .select_only()
        .column(observation::Column::IndicatorId)
        .distinct()
        .filter(observation::Column::IndicatorId.is_in(ids.clone()))
        .filter(observation::Column::Year.eq(year))
        .filter(crate::service::observations::flag_is_set(
            observation::Column::IsLatest,
        ))
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut cells = Vec::new();
    for i in &indicators {
        let per_township = reference
            .targets_of(i.id)
            .iter()
            .any(|t| t.scope == TargetScope::EachTownship);
        for (sex, age, residence) in breakdowns(i, ages.get(&i.id).unwrap_or(&BTreeSet::new())) {
            cells.push((i, &city, sex, age, residence));
        }
        if per_township {
            for t in &townships {
                cells.push((i, t, TOTAL.to_owned(), TOTAL.to_owned(), TOTAL.to_owned()));
            }
        }
    }
    let keys: Vec<Key> = cells
        .iter()
        .map(|(i, r, s, a, res)| Key {
            series: SeriesKey {
                indicator_id: i.id,
                region_id: r.id,
                sex: s.clone(),
                age_group: a.clone(),
                residence: res.clone(),
            },
            year,
        })
        .collect();
    let latest = crate::service::submissions::store::latest_rows(db, &keys).await?;
    let published = crate::service::submissions::store::flagged_rows(
        db,
        &keys,
        observation::Column::IsPublished,
    )
    .await?;
    let before: Vec<Key> = keys.iter().map(Key::year_before).collect();
    let last_year = crate::service::submissions::store::flagged_rows(
        db,
        &before,
        observation::Column::IsPublished,
    )
    .await?;
    let mut by_department: HashMap<i32, Vec<DueCell>> = HashMap::new();
    for ((i, r, sex, age_group, residence), key) in cells.into_iter().zip(keys) {
        let newest = latest.get(&key);
        let status = match newest.map(|o| o.status) {
            None => CellStatus::Missing,
            Some(Status::Rejected) if published.contains_key(&key) => CellStatus::Approved,
            Some(Status::Rejected) => CellStatus::Rejected,
            Some(Status::Pending) => CellStatus::Pending,
            Some(_) => CellStatus::Approved,
        };
        by_department
            .entry(i.owner_department_id)
            .or_default()
            .push(DueCell {
                indicator: i.clone(),
                region: r.clone(),
                sex,
                age_group,
                residence,
                status,
                value: newest.map(|o| o.value),
                last_year: last_year.get(&key.year_before()).map(|o| o.value),
            });
    }
    let deadline = deadline_of(settings, year);
    Ok(departments
        .into_iter()
        .map(|department| Due {
            cells: by_department.remove(&department.id).unwrap_or_default(),
            reported: indicators
                .iter()
                .filter(|i| i.owner_department_id == department.id && reported.contains(&i.id))
                .map(|i| i.id)
                .collect(),
            department,
            year,
            deadline,
        })
        .collect())
}
