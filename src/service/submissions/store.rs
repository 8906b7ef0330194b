//! Storing new observation rows. On PostgreSQL one `INSERT … SELECT FROM UNNEST(arrays)` statement carries
//! ten thousand rows with seventeen parameters, which is several times faster than multi-row `VALUES` for
//! bulk imports; SQLite takes multi-row inserts sized under its bind-parameter limit.

use crate::error::AppResult;
use crate::service::retry::map_write_error;
use crate::vocabulary::Status;
use entity::observation::{self, Key};
use sea_orm::sea_query::{ArrayType, Value};
use sea_orm::{ActiveValue::Set, Condition, ConnectionTrait, DbBackend, EntityTrait, Statement};
use sea_orm::{ColumnTrait, QueryFilter};
use std::collections::HashMap;

/// What every row of one insert shares.
#[derive(Clone, Debug)]
pub struct Common {
    pub status: Status,
    pub is_latest: bool,
    pub is_published: bool,
    pub submission_id: Option<i64>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The source run the rows were pulled in, if any (provenance).
    pub source_run_id: Option<i64>,
}

/// One new row.
#[derive(Clone, Debug)]
pub struct NewRow {
    pub key: Key,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub revision: i32,
    pub quality_flag: Option<String>,
}

/// The driver binds arrays without NULL elements, so missing numbers travel as NaN (never a valid value:
/// validation refuses it) and a missing flag as an empty string, and become NULL here.
const UNNEST_INSERT: &str = "INSERT INTO observation (indicator_id, region_id, year, sex, age_group, residence, \
     value, numerator, denominator, revision, quality_flag, status, is_latest, is_published, submission_id, \
     created_by, created_at, source_run_id) \
     SELECT u.i, u.r, u.y, u.s, u.a, u.res, u.v, NULLIF(u.n, 'NaN'::float8), NULLIF(u.d, 'NaN'::float8), \
     u.rev, NULLIF(u.q, ''), $12, $13, $14, $15, $16, $17, $18 \
     FROM UNNEST($1::int4[], $2::int4[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::float8[], \
     $8::float8[], $9::float8[], $10::int4[], $11::text[]) AS u(i, r, y, s, a, res, v, n, d, rev, q)";

fn array(ty: ArrayType, values: Vec<Value>) -> Value {
    Value::Array(ty, Some(Box::new(values)))
}

/// Inserts the rows; a unique violation (a concurrent writer) comes back as a conflict.
pub async fn insert(db: &impl ConnectionTrait, common: &Common, rows: &[NewRow]) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        for chunk in rows.chunks(10_000) {
            let column = |f: &dyn Fn(&NewRow) -> Value| chunk.iter().map(f).collect::<Vec<_>>();
            let values = vec![
                array(
                    ArrayType::Int,
                    column(&|r| Value::Int(Some(r.key.series.indicator_id))),
                ),
                array(
                    ArrayType::Int,
                    column(&|r| Value::Int(Some(r.key.series.region_id))),
                ),
                array(ArrayType::Int, column(&|r| Value::Int(Some(r.key.year)))),
                array(
                    ArrayType::String,
                    column(&|r| Value::String(Some(r.key.series.sex.clone()))),
                ),
                array(
                    ArrayType::String,
                    column(&|r| Value::String(Some(r.key.series.age_group.clone()))),
                ),
                array(
                    ArrayType::String,
                    column(&|r| Value::String(Some(r.key.series.residence.clone()))),
                ),
                array(ArrayType::Double, column(&|r| Value::Double(Some(r.value)))),
                array(
                    ArrayType::Double,
                    column(&|r| Value::Double(Some(r.numerator.unwrap_or(f64::NAN)))),
                ),
                array(
                    ArrayType::Double,
                    column(&|r| Value::Double(Some(r.denominator.unwrap_or(f64::NAN)))),
                ),
                array(ArrayType::Int, column(&|r| Value::Int(Some(r.revision)))),
                array(
                    ArrayType::String,
                    column(&|r| Value::String(Some(r.quality_flag.clone().unwrap_or_default()))),
                ),
                common.status.as_str().into(),
                common.is_latest.into(),
                common.is_published.into(),
                common.submission_id.into(),
                common.created_by.clone().into(),
                common.created_at.into(),
                common.source_run_id.into(),
            ];
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                UNNEST_INSERT,
                values,
            ))
            .await
            .map_err(map_write_error)?;
        }
        return Ok(());
    }
    // 18 columns × 1000 rows stays under SQLite's 32766 bind parameters.
    for chunk in rows.chunks(1000) {
        let models = chunk.iter().map(|r| observation::ActiveModel {
            indicator_id: Set(r.key.series.indicator_id),
            region_id: Set(r.key.series.region_id),
            year: Set(r.key.year),
            sex: Set(r.key.series.sex.clone()),
            age_group: Set(r.key.series.age_group.clone()),
            residence: Set(r.key.series.residence.clone()),
            value: Set(r.value),
            numerator: Set(r.numerator),
            denominator: Set(r.denominator),
            revision: Set(r.revision),
            quality_flag: Set(r.quality_flag.clone()),
            status: Set(common.status),
            is_latest: Set(common.is_latest),
            is_published: Set(common.is_published),
            submission_id: Set(common.submission_id),
            created_by: Set(common.created_by.clone()),
            created_at: Set(common.created_at),
            source_run_id: Set(common.source_run_id),
            ..Default::default()
        });
        observation::Entity::insert_many(models)
            .exec(db)
            .await
            .map_err(map_write_error)?;
    }
    Ok(())
}

/// For each key of `keys`, the stored revision whose `flag` column (`IsLatest`: the newest of any status;
/// `IsPublished`: the approved one in force) is set.
pub async fn flagged_rows(
    db: &impl ConnectionTrait,
    keys: &[Key],
    flag: observation::Column,
) -> AppResult<HashMap<Key, observation::Model>> {
    Ok(rows_with_keys(
        db,
        keys,
        Condition::all().add(crate::service::observations::flag_is_set(flag)),
    )
    .await?
    .into_iter()
    .map(|m| (m.key(), m))
    .collect())
}

/// The stored revisions of the given keys that also meet `condition`. One query per chunk, by the
/// chunk's distinct indicators, regions and years: a superset that the partial indexes on newest and
/// published revisions serve, filtered to the exact keys here.
pub async fn rows_with_keys(
    db: &impl ConnectionTrait,
    keys: &[Key],
    condition: Condition,
) -> AppResult<Vec<observation::Model>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(10_000) {
        let mut indicators: Vec<i32> = chunk.iter().map(|k| k.series.indicator_id).collect();
        let mut regions: Vec<i32> = chunk.iter().map(|k| k.series.region_id).collect();
        let mut years: Vec<i32> = chunk.iter().map(|k| k.year).collect();
        for v in [&mut indicators, &mut regions, &mut years] {
            v.sort_unstable();
            v.dedup();
        }
        let wanted: std::collections::HashSet<&Key> = chunk.iter().collect();
        let found = observation::Entity::find()
            .filter(observation::Column::IndicatorId.is_in(indicators))
            .filter(observation::Column::RegionId.is_in(regions))
            .filter(observation::Column::Year.is_in(years))
            .filter(condition.clone())
            .all(db)
            .await?;
        out.extend(found.into_iter().filter(|m| wanted.contains(&m.key())));
    }
    Ok(out)
}

/// The newest stored revision (any status) of each key.
pub async fn latest_rows(
    db: &impl ConnectionTrait,
    keys: &[Key],
) -> AppResult<HashMap<Key, observation::Model>> {
    flagged_rows(db, keys, observation::Column::IsLatest).await
}
