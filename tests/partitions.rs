//! The observations table partitioned on PostgreSQL (migration `m20261208_000012`): a database made by the
//! earlier migrations, with data in it, is converted without losing or changing a row, keeps every index
//! and key, goes on taking ids from where it was, and converts back; the read shapes prune to the
//! partitions of the indicators they name (`EXPLAIN`).

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

async fn text(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row");
    row.try_get_by_index::<Option<String>>(0)
        .expect("text")
        .unwrap_or_default()
}

/// `r` for a plain table, `p` for a partitioned one.
async fn relkind(db: &DatabaseConnection) -> String {
    text(
        db,
        "SELECT relkind::text FROM pg_class WHERE relname = 'observation'",
    )
    .await
}

/// Everything a row holds, in id order: equal digests mean no row was lost, added or changed.
const DIGEST: &str = "SELECT md5(string_agg(concat_ws('|', id, indicator_id, region_id, year, sex, age_group, \
    residence, value, numerator, denominator, status, revision, is_latest, is_published, submission_id, \
    quality_flag, created_by, created_at, source_run_id), ',' ORDER BY id)) FROM observation";

/// The observation indexes and keys, by name and definition (a partitioned table's own, not its
/// partitions').
const SHAPE: &str = "SELECT string_agg(d, E'\\n' ORDER BY d) FROM ( \
    SELECT indexname || ': ' || regexp_replace(indexdef, '^.* USING ', '') AS d FROM pg_indexes \
    WHERE tablename = 'observation' AND indexname <> 'observation_pkey' \
    UNION ALL SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
    WHERE conrelid = 'observation'::regclass AND contype = 'f') AS s";

/// The partitions a plan reads.
async fn partitions_read(db: &DatabaseConnection, query: &str) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("EXPLAIN (COSTS OFF) {query}"),
        ))
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut found: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .flat_map(|line| {
            line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| {
                    w.strip_prefix("observation_p")
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set CHILDHUB_TEST_POSTGRES (as .ci/run does)"
)]
async fn an_existing_database_is_partitioned_without_losing_a_row() {
    let (admin, name, url) = crate::support::empty_postgres_database("childhub_partitions").await;
    let db = sea_orm::Database::connect(&url).await.expect("connect");
    let before_partitioning = Migrator::migrations()
        .iter()
        .position(|m| m.name().contains("partition_observations"))
        .expect("the partitioning migration") as u32;
    Migrator::up(&db, Some(before_partitioning))
        .await
        .expect("the earlier migrations");
    childhub::seed::load_catalogue(&db)
        .await
        .expect("catalogue");
    childhub::seed::load_demo(&db).await.expect("demo");
    assert_eq!(relkind(&db).await, "r");
    let digest = text(&db, DIGEST).await;
    let shape = text(&db, SHAPE).await;
    let count: i64 = text(&db, "SELECT count(*)::text FROM observation")
        .await
        .parse()
        .expect("count");
    assert!(count > 1000, "the demo has data: {count}");
    let max_id: i64 = text(&db, "SELECT max(id)::text FROM observation")
        .await
        .parse()
        .expect("max");

    Migrator::up(&db, Some(1)).await.expect("partitioning");
    assert_eq!(relkind(&db).await, "p", "observation is partitioned");
    assert_eq!(
        text(
            &db,
            "SELECT count(*)::text FROM pg_inherits WHERE inhparent = 'observation'::regclass"
        )
        .await,
        "16"
    );
    assert_eq!(text(&db, DIGEST).await, digest, "every row as it was");
    assert_eq!(
        text(&db, SHAPE).await,
        shape,
        "every index and foreign key again"
    );
    assert_eq!(
        text(
            &db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'observation_pkey'"
        )
        .await,
        "PRIMARY KEY (id, indicator_id)"
    );

    // New rows take ids after the old ones, and the keys still hold.
    let insert = |revision: i32| {
        format!(
            "INSERT INTO observation (indicator_id, region_id, year, sex, age_group, residence, value, status, \
             revision, is_latest, is_published, created_by, created_at) \
             SELECT indicator_id, region_id, year, sex, age_group, residence, value, 'pending', {revision}, true, \
             false, 'test', now() FROM observation WHERE id = {max_id} RETURNING id::text"
        )
    };
    let refused = db
        .execute_unprepared(&insert(1))
        .await
        .expect_err("a second newest revision of a key is refused");
    assert!(refused.to_string().contains("duplicate key"), "{refused}");
    db.execute_unprepared(&format!(
        "UPDATE observation SET is_latest = false WHERE id = {max_id}"
    ))
    .await
    .expect("supersede");
    let new_id: i64 = text(&db, &insert(99)).await.parse().expect("id");
    assert!(new_id > max_id, "{new_id} after {max_id}");

    // Each shape reads the partitions of the indicators it names, not all sixteen.
    let id_of = |code: &str| format!("(SELECT id FROM indicator WHERE code = '{code}')");
    let one = text(&db, &format!("SELECT {}::text", id_of("HEA-06"))).await;
    let three: Vec<String> = ["HEA-06", "EDU-01", "WEL-02"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    let ids = text(
        &db,
        &format!(
            "SELECT string_agg(id::text, ',') FROM indicator WHERE code IN ({})",
            three
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .await;
    let page = format!(
        "SELECT * FROM observation WHERE indicator_id IN ({one}) AND is_published ORDER BY id LIMIT 100"
    );
    assert_eq!(partitions_read(&db, &page).await.len(), 1, "a page");
    let latest = format!(
        "SELECT * FROM observation WHERE indicator_id IN ({ids}) AND region_id IN (1, 2, 3) AND is_published"
    );
    let read = partitions_read(&db, &latest).await;
    assert!(
        !read.is_empty() && read.len() <= 3,
        "latest values of three indicators: {read:?}"
    );
    let aggregate = format!(
        "SELECT year, sum(value) FROM observation WHERE indicator_id IN ({one}) AND is_published \
         AND sex = '_T' AND age_group = '_T' AND residence = '_T' GROUP BY year"
    );
    assert_eq!(
        partitions_read(&db, &aggregate).await.len(),
        1,
        "an aggregate"
    );

    // And back: one plain table with every row, index and key.
    db.execute_unprepared(&format!("DELETE FROM observation WHERE id = {new_id}"))
        .await
        .expect("delete");
    db.execute_unprepared(&format!(
        "UPDATE observation SET is_latest = true WHERE id = {max_id}"
    ))
    .await
    .expect("restore");
    Migrator::down(&db, Some(1)).await.expect("unpartitioning");
    assert_eq!(relkind(&db).await, "r");
    assert_eq!(text(&db, DIGEST).await, digest);
    assert_eq!(text(&db, SHAPE).await, shape);

    db.close().await.ok();
    admin
        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop");
}
