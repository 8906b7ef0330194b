//! Leases for jobs that run once across replicas. A replica holds a lease by renewing it before it
//! expires; when a replica dies its lease lapses and another takes the job over. Taking a lease is one
//! conditional update (or an insert the first time), so two replicas never both hold it.

use crate::error::AppResult;
use entity::job_lease;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
};
use std::time::Duration;

/// Takes or renews the lease `name` for `holder` for `ttl`; whether `holder` now holds it.
pub async fn acquire(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> AppResult<bool> {
    let now = chrono::Utc::now();
    let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(15));
    let renewed = job_lease::Entity::update_many()
        .col_expr(
            job_lease::Column::Holder,
            sea_orm::sea_query::Expr::value(holder),
        )
        .col_expr(
            job_lease::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(until),
        )
        .filter(job_lease::Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(job_lease::Column::Holder.eq(holder))
                .add(job_lease::Column::ExpiresAt.lt(now)),
        )
        .exec(db)
        .await?;
    if renewed.rows_affected == 1 {
        return Ok(true);
    }
    let exists = job_lease::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    // The first time: whoever inserts first holds it; the other's insert fails on the key.
    let inserted = job_lease::Entity::insert(job_lease::ActiveModel {
        name: Set(name.to_owned()),
        holder: Set(holder.to_owned()),
        expires_at: Set(until),
    })
    .exec(db)
    .await;
    Ok(inserted.is_ok())
}

/// Gives the lease up (on shutdown), so another replica need not wait for it to lapse.
pub async fn release(db: &impl ConnectionTrait, name: &str, holder: &str) -> AppResult<()> {
    job_lease::Entity::delete_many()
        .filter(job_lease::Column::Name.eq(name))
        .filter(job_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}
