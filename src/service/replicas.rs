//! Read replicas: the PostgreSQL hot standbys in `database.replica_urls`. Reads that need published
//! data only (queries, exports, reports, SDMX) go to a healthy standby; every write, and every read
//! inside a write, goes to the primary.
//!
//! A watcher checks every standby twice a second: whether it answers, how far its replay is behind the
//! primary (in time, from the primary's WAL positions it sampled), and the WAL position it has replayed.
//! [`Replicas::reader`] picks a standby that is up, within `database.max_replica_lag`, and — when the
//! caller sends a consistency token, the primary's WAL position after its last write — has replayed past
//! it; otherwise the primary. That is read-your-writes without sticky sessions: the hub's replicas share
//! no state, the token travels with the caller. A standby that fails a request is skipped at once and
//! taken back once a later check passes.
//!
//! Standby connections are read-only (`default_transaction_read_only`), so a write routed to one fails
//! loudly instead of drifting: a hot standby refuses writes anyway, and the setting makes a test against
//! a writable server behave the same.

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::service::Db;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};
use secrecy::{ExposeSecret, SecretString};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often the watcher checks each standby.
const CHECK_EVERY: Duration = Duration::from_millis(500);
/// How long one check may take: a standby that does not answer within it is down.
const CHECK_WITHIN: Duration = Duration::from_secs(1);
/// How long a standby that failed a request is skipped, whatever its checks say meanwhile: a server
/// that answers a check but fails work is not taken back at the next tick.
const HOLD_OFF_AFTER_FAILURE: Duration = Duration::from_secs(2);
/// How far back the primary's sampled WAL positions reach (a standby further behind is "lagging" by at
/// least this much).
const HISTORY: Duration = Duration::from_secs(600);

/// A position in PostgreSQL's write-ahead log, as `pg_current_wal_lsn()` prints it (`16/B374D848`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// Reads `HIGH/LOW` (two hexadecimal halves); `None` for anything else.
    pub fn parse(text: &str) -> Option<Lsn> {
        let (high, low) = text.trim().split_once('/')?;
        let high = u32::from_str_radix(high, 16).ok()?;
        let low = u32::from_str_radix(low, 16).ok()?;
        Some(Lsn((u64::from(high) << 32) | u64::from(low)))
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Where one request reads: the primary or one standby.
#[derive(Clone, Debug)]
pub struct Route {
    pub db: Db,
    standby: Option<usize>,
}

impl Route {
    /// Whether this route is a standby (a failure there is worth retrying on the primary).
    pub fn is_standby(&self) -> bool {
        self.standby.is_some()
    }
}

/// How a standby stands, as its last check or request left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not checked yet (just started, or not connected).
    Unchecked,
    /// Answers, within the lag bound.
    Healthy,
    /// Answers, but its replay is further behind than `database.max_replica_lag`.
    Lagging,
    /// Did not answer, or failed a request; the reason is in the log.
    Down,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Unchecked => "unchecked",
            Status::Healthy => "healthy",
            Status::Lagging => "lagging",
            Status::Down => "down",
        }
    }
}

/// One pool as `/readyz` and `/metrics` show it.
#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    pub status: Status,
    /// How far the standby's replay is behind the primary (none for the primary, or when unknown).
    pub lag: Option<Duration>,
    /// Requests routed to this pool since the process started.
    pub served: u64,
}

#[derive(Debug)]
struct State {
    status: Status,
    replayed: Option<Lsn>,
    lag: Option<Duration>,
    held_off_until: Option<Instant>,
}

#[derive(Debug)]
struct Standby {
    name: String,
    options: ConnectOptions,
    db: OnceLock<Db>,
    state: Mutex<State>,
    served: AtomicU64,
}

/// The primary and the standbys, with what the watcher last saw of each.
#[derive(Debug)]
pub struct Replicas {
    primary: Db,
    standbys: Vec<Standby>,
    max_lag: Duration,
    next: AtomicUsize,
    primary_served: AtomicU64,
    /// The primary's WAL position as the watcher sampled it, oldest first.
    primary_positions: Mutex<VecDeque<(Instant, Lsn)>>,
}

impl Replicas {
    /// The primary and the standbys of `settings` (not connected yet: the watcher connects them, so a
    /// standby that is down does not stop the hub from starting).
    pub fn new(primary: Db, settings: &Settings) -> AppResult<Arc<Self>> {
        let database = &settings.database;
        if !database.replica_urls.is_empty() && settings.is_sqlite() {
            return Err(AppError::invalid(
                "database.replica_urls",
                format!("{} URL(s)", database.replica_urls.len()),
                "no replicas with the embedded SQLite database: read replicas are PostgreSQL hot standbys of a PostgreSQL primary",
            ));
        }
        let standbys = database
            .replica_urls
            .iter()
            .enumerate()
            .map(|(i, url)| standby(i, url, settings))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Arc::new(Replicas {
            primary,
            standbys,
            max_lag: database.max_replica_lag,
            next: AtomicUsize::new(0),
            primary_served: AtomicU64::new(0),
            primary_positions: Mutex::default(),
        }))
    }

    /// Whether any standby is configured (else every route is the primary and nothing is watched).
    pub fn has_standbys(&self) -> bool {
        !self.standbys.is_empty()
    }

    /// The primary, for writes and for reads that must see the latest commit.
    pub fn primary(&self) -> Route {
        self.primary_served.fetch_add(1, Ordering::Relaxed);
        Route {
            db: self.primary.clone(),
            standby: None,
        }
    }

    /// Where a read goes: the next usable standby in turn — up, within the lag bound, and past `token`
    /// when the caller sent one — else the primary.
    pub fn reader(&self, token: Option<Lsn>) -> Route {
        let count = self.standbys.len();
        if count > 0 {
            let start = self.next.fetch_add(1, Ordering::Relaxed);
            for turn in 0..count {
                let index = (start + turn) % count;
                let standby = &self.standbys[index];
                if let Some(db) = standby.usable(token, self.max_lag) {
                    standby.served.fetch_add(1, Ordering::Relaxed);
                    return Route {
                        db,
                        standby: Some(index),
                    };
                }
            }
        }
        self.primary()
    }

    /// A request on `route` failed as if its server were gone: skip that standby until a check after
    /// the hold-off passes. The primary has no alternative and is not marked.
    pub fn failed(&self, route: &Route) {
        let Some(standby) = route.standby.and_then(|i| self.standbys.get(i)) else {
            return;
        };
        if let Ok(mut state) = standby.state.lock() {
            if state.status != Status::Down {
                tracing::warn!(
                    replica = standby.name,
                    "a read replica failed a request; reading from the primary until it passes a check"
                );
            }
            state.status = Status::Down;
            state.held_off_until = Some(Instant::now() + HOLD_OFF_AFTER_FAILURE);
        }
    }

    /// Checks every standby every [`CHECK_EVERY`], for the life of the process.
    pub async fn watch(self: Arc<Self>) {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.check().await;
        }
    }

    /// One round of checks: the primary's position first, then each standby against it.
    pub async fn check(&self) {
        if let Ok(Ok(Some(position))) =
            tokio::time::timeout(CHECK_WITHIN, position(&self.primary)).await
            && let Ok(mut positions) = self.primary_positions.lock()
        {
            let now = Instant::now();
            positions.push_back((now, position));
            while positions
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > HISTORY)
            {
                positions.pop_front();
            }
        }
        let checks = self.standbys.iter().map(|standby| async move {
            let seen = tokio::time::timeout(CHECK_WITHIN, standby.replayed()).await;
            let replayed = match seen {
                Ok(Ok(lsn)) => Ok(lsn),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {CHECK_WITHIN:?}")),
            };
            let lag = replayed.as_ref().ok().map(|lsn| self.lag_of(*lsn));
            standby.record(replayed, lag, self.max_lag);
        });
        futures::future::join_all(checks).await;
    }

    /// How long ago the primary was first seen past `replayed`: the standby's replay lag, as precise
    /// as the sampling.
    fn lag_of(&self, replayed: Lsn) -> Duration {
        let Ok(positions) = self.primary_positions.lock() else {
            return Duration::MAX;
        };
        match positions.iter().find(|(_, lsn)| *lsn > replayed) {
            Some((at, _)) => at.elapsed(),
            None => Duration::ZERO,
        }
    }

    /// Every pool as it stands now: the primary first, then the standbys in configured order.
    pub fn pools(&self) -> Vec<Pool> {
        let mut pools = vec![Pool {
            name: "primary".into(),
            status: Status::Healthy,
            lag: None,
            served: self.primary_served.load(Ordering::Relaxed),
        }];
        for standby in &self.standbys {
            let (status, lag) = standby
                .state
                .lock()
                .map(|s| (s.status.clone(), s.lag))
                .unwrap_or((Status::Down, None));
            pools.push(Pool {
                name: standby.name.clone(),
                status,
                lag,
                served: standby.served.load(Ordering::Relaxed),
            });
        }
        pools
    }
}

/// The primary's WAL position now: after a commit, the consistency token that lets a standby serve the
/// writer once it has replayed that far. `None` on SQLite (no standbys there).
pub async fn position(db: &Db) -> AppResult<Option<Lsn>> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_current_wal_lsn()::text AS lsn",
        ))
        .await?;
    Ok(row
        .and_then(|r| r.try_get::<String>("", "lsn").ok())
        .and_then(|text| Lsn::parse(&text)))
}

/// A standby's connection settings: the primary's pool limits and statement timeout, read-only sessions.
fn standby(index: usize, url: &SecretString, settings: &Settings) -> AppResult<Standby> {
    let name = format!("replica-{}", index + 1);
    let url = url.expose_secret();
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(AppError::invalid(
            format!("database.replica_urls[{index}]"),
            "a URL that is not PostgreSQL's",
            "postgres://USER:PASSWORD@HOST:5432/NAME of a hot standby of the primary",
        ));
    }
    let pool = &settings.database;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(pool.max_connections.unwrap_or(10))
        // A standby that does not give a connection quickly is skipped for the primary: waiting the
        // primary's acquire timeout on a server that went away would only delay the answer.
        .acquire_timeout(pool.acquire_timeout.min(CHECK_WITHIN))
        .connect_timeout(pool.connect_timeout.min(CHECK_WITHIN))
        .connect_lazy(true);
    let statement_timeout = format!("{}ms", pool.statement_timeout.as_millis());
    options.map_sqlx_postgres_opts(move |o| {
        o.options([
            ("statement_timeout", statement_timeout.as_str()),
            ("default_transaction_read_only", "on"),
        ])
    });
    Ok(Standby {
        name,
        options,
        db: OnceLock::new(),
        state: Mutex::new(State {
            status: Status::Unchecked,
            replayed: None,
            lag: None,
            held_off_until: None,
        }),
        served: AtomicU64::new(0),
    })
}

impl Standby {
    /// The pool, if this standby may serve a caller who has seen `token`.
    fn usable(&self, token: Option<Lsn>, max_lag: Duration) -> Option<Db> {
        let state = self.state.lock().ok()?;
        let fresh_enough = state.lag.is_some_and(|lag| lag <= max_lag);
        let replayed_enough = match token {
            Some(token) => state.replayed.is_some_and(|r| r >= token),
            None => true,
        };
        (state.status == Status::Healthy && fresh_enough && replayed_enough)
            .then(|| self.db.get().cloned())
            .flatten()
    }

    /// The pool, connected (lazily: the first statement opens a connection) on first use.
    async fn pool(&self) -> AppResult<Db> {
        if let Some(db) = self.db.get() {
            return Ok(db.clone());
        }
        let mut db = Database::connect(self.options.clone()).await?;
        db.set_metric_callback(crate::service::record_statement);
        Ok(self.db.get_or_init(|| db).clone())
    }

    /// The WAL position this standby has replayed (a server that is not in recovery — a primary named
    /// as a replica — has "replayed" all it wrote).
    async fn replayed(&self) -> AppResult<Lsn> {
        let db = self.pool().await?;
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                 ELSE pg_current_wal_lsn() END)::text AS lsn",
            ))
            .await?;
        row.and_then(|r| r.try_get::<String>("", "lsn").ok())
            .and_then(|text| Lsn::parse(&text))
            .ok_or_else(|| {
                AppError::Unavailable(
                    "the replica has replayed nothing yet (still starting?)".into(),
                )
            })
    }

    /// What one check found.
    fn record(&self, replayed: Result<Lsn, String>, lag: Option<Duration>, max_lag: Duration) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let was = state.status.clone();
        let held_off = state
            .held_off_until
            .is_some_and(|until| Instant::now() < until);
        match replayed {
            Ok(lsn) => {
                state.replayed = Some(lsn);
                state.lag = lag;
                if !held_off {
                    state.held_off_until = None;
                    state.status = if lag.is_some_and(|l| l <= max_lag) {
                        Status::Healthy
                    } else {
                        Status::Lagging
                    };
                }
            }
            Err(reason) => {
                state.status = Status::Down;
                state.lag = None;
                if was != Status::Down {
                    tracing::warn!(replica = self.name, %reason, "a read replica does not answer; reading from the primary");
                }
            }
        }
        if was != state.status && state.status != Status::Down {
            tracing::info!(
                replica = self.name,
                status = state.status.as_str(),
                "read replica status changed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lsn;

    #[test]
    fn a_wal_position_reads_and_prints_as_postgresql_does() {
        let lsn = Lsn::parse("16/B374D848").expect("parses");
        assert_eq!(lsn.0, (0x16 << 32) | 0xB374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!(Lsn::parse("0/1").expect("parses") < Lsn::parse("1/0").expect("parses"));
        for bad in ["", "16", "x/1", "1/2/3", "100000000/0"] {
            assert_eq!(Lsn::parse(bad), None, "{bad}");
        }
    }
}
