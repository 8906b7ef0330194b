//! The command line: `serve`, `migrate`, `seed`, `schema`, `import-regions`, `token`. Each command loads the
//! settings, does one thing and prints a short human-readable result on stdout.

use crate::auth::Role;
use crate::auth::token::{issue_dev_token, parse_ttl};
use crate::config::{Environment, Overrides, Settings};
use crate::error::{AppError, AppResult};
use crate::report::{ReportFormat, ReportKind};
use crate::service::audit::WriteContext;
use crate::service::catalogue::local_identity;
use crate::service::export::{self, ExportFormat};
use crate::service::import::{self, ImportOptions};
use crate::service::observations::ObservationFilter;
use crate::service::regions::write as regions;
use crate::{graphql, seed, startup, telemetry};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// childhub — the open data hub for a city's child-development statistics.
#[derive(Debug, Parser)]
#[command(name = "childhub", version, about)]
pub struct Cli {
    /// TOML settings file (default: `CHILDHUB_CONFIG`, or `childhub.toml` when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Database URL, e.g. `postgres://postgres@127.0.0.1/childhub` (default: ./data/childhub.db).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// `development` or `production`.
    #[arg(long, global = true)]
    pub environment: Option<Environment>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (migrates first; seeds an empty embedded database).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Load the plan's catalogue (and with --demo the synthetic demo data).
    Seed {
        #[arg(long)]
        demo: bool,
    },
    /// Print the GraphQL schema (SDL, with federation directives).
    Schema,
    /// Load a city's administrative divisions from a CSV file.
    ImportRegions {
        /// A CSV file with the columns code,name_zh,name_en,level,residence,parent,valid_from,valid_to.
        file: PathBuf,
        /// The coordinating department whose admin the import acts as (recorded in the audit log).
        #[arg(long = "as", value_name = "DEPT", default_value = "statistics")]
        department: String,
    },
    /// Import data from a file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export data to a file or stdout.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Write a monitoring report (annual, mid-term or final) as HTML or Markdown.
    Report {
        #[arg(long)]
        year: i32,
        #[arg(long, value_enum, default_value = "annual")]
        kind: ReportKind,
        #[arg(long, value_enum, default_value = "html")]
        format: ReportFormat,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The area (default: the only city).
        #[arg(long)]
        region: Option<String>,
        /// The department reading, e.g. `statistics` (default: statistics, a coordinator).
        #[arg(long = "as", default_value = "statistics")]
        department: String,
    },
    /// Print a development token signed with the configured HS256 secret.
    Token {
        /// Department code, e.g. `health`.
        #[arg(long)]
        dept: String,
        /// Role: viewer, submitter, approver or admin (repeatable).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Lifetime, e.g. `8h`, `30m`, `2d`.
        #[arg(long, default_value = "8h")]
        ttl: String,
        /// Subject (default: `<dept>-dev`).
        #[arg(long)]
        sub: Option<String>,
    },
}

/// `childhub import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Observations from CSV (indicator,region,year,sex,age_group,residence,value,numerator,denominator),
    /// checked like `submitObservations` and written as pending submissions of the department.
    Observations {
        file: PathBuf,
        /// The department submitting, e.g. `health`.
        #[arg(long = "as")]
        department: String,
        /// Rows per submission and transaction; resumable from FILE.progress. Default: the whole file.
        #[arg(long)]
        batch: Option<usize>,
        /// Where bad rows go, with the reason for each (default: FILE.rejects.csv).
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `childhub export …`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Observations as CSV or JSON, as the department (`--as`) may read them.
    Observations {
        /// Indicator codes (repeatable).
        #[arg(long = "indicator")]
        indicators: Vec<String>,
        /// Region codes (repeatable).
        #[arg(long = "region")]
        regions: Vec<String>,
        #[arg(long)]
        from: Option<i32>,
        #[arg(long)]
        to: Option<i32>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// The department reading, e.g. `statistics` (default: statistics, a coordinator).
        #[arg(long = "as", default_value = "statistics")]
        department: String,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> AppResult<()> {
    let bind = match &cli.command {
        Command::Serve { bind } => *bind,
        _ => None,
    };
    let overrides = Overrides {
        database_url: cli.database_url.clone(),
        bind,
        environment: cli.environment,
    };
    let settings = Settings::load(cli.config.as_deref(), &overrides)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Serve { .. } => serve(settings).await,
        Command::Migrate => {
            let db = startup::connect(&settings).await?;
            startup::migrate(&db).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Seed { demo } => {
            let db = startup::connect(&settings).await?;
            startup::migrate(&db).await?;
            let load = seed::load_catalogue(&db).await?;
            println!(
                "catalogue: {} departments, {} domains, {} indicators, {} targets, {} dimension codes added",
                load.departments, load.domains, load.indicators, load.targets, load.dimension_codes
            );
            if demo {
                let load = seed::load_demo(&db).await?;
                if load.regions == 0 {
                    println!("demo: already loaded");
                } else {
                    println!(
                        "demo (synthetic data, region codes DEMO…): {} regions, {} observations added",
                        load.regions, load.observations
                    );
                }
            }
            Ok(())
        }
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::ImportRegions { file, department } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                AppError::invalid("FILE", file.display(), format!("a readable CSV file ({e})"))
            })?;
            let db = startup::connect(&settings).await?;
            startup::migrate(&db).await?;
            let ctx = WriteContext::cli(local_identity(&db, &department, &[Role::Admin]).await?);
            match regions::import_regions(&db, &ctx, &text).await? {
                Ok(done) => {
                    println!(
                        "regions: {} created, {} updated",
                        done.created, done.updated
                    );
                    Ok(())
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    Err(AppError::invalid(
                        "FILE",
                        file.display(),
                        format!(
                            "a file without errors ({} bad rows; nothing was written)",
                            errors.len()
                        ),
                    ))
                }
            }
        }
        Command::Import(ImportCommand::Observations {
            file,
            department,
            batch,
            rejects,
            dry_run,
        }) => {
            let db = startup::connect(&settings).await?;
            startup::migrate(&db).await?;
            import_observations(&db, &settings, &file, &department, batch, rejects, dry_run).await
        }
        Command::Export(ExportCommand::Observations {
            indicators,
            regions,
            from,
            to,
            format,
            department,
            out,
        }) => {
            let db = startup::connect(&settings).await?;
            let identity = local_identity(&db, &department, &[Role::Viewer]).await?;
            let filter = ObservationFilter {
                indicators: (!indicators.is_empty()).then_some(indicators),
                regions: (!regions.is_empty()).then_some(regions),
                year_from: from,
                year_to: to,
                ..ObservationFilter::default()
            };
            let rows = match out {
                Some(path) => {
                    let file = std::fs::File::create(&path).map_err(|e| {
                        AppError::invalid("--out", path.display(), format!("a writable file ({e})"))
                    })?;
                    let mut writer = std::io::BufWriter::new(file);
                    export::export(&db, &identity, &filter, format, usize::MAX, &mut writer).await?
                }
                None => {
                    let mut writer = std::io::BufWriter::new(std::io::stdout().lock());
                    export::export(&db, &identity, &filter, format, usize::MAX, &mut writer).await?
                }
            };
            eprintln!("exported {rows} observations");
            Ok(())
        }
        Command::Report {
            year,
            kind,
            format,
            out,
            region,
            department,
        } => {
            let db = startup::connect(&settings).await?;
            let identity = local_identity(&db, &department, &[Role::Viewer]).await?;
            let body = crate::report::render(&db, &identity, year, kind, format, region).await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, body).map_err(|e| {
                        AppError::invalid("--out", path.display(), format!("a writable file ({e})"))
                    })?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{body}"),
            }
            Ok(())
        }
        Command::Token {
            dept,
            roles,
            ttl,
            sub,
        } => {
            for role in &roles {
                if Role::parse(role).is_none() {
                    return Err(AppError::invalid(
                        "--role",
                        role,
                        "viewer, submitter, approver or admin",
                    ));
                }
            }
            let ttl = parse_ttl(&ttl).ok_or_else(|| {
                AppError::invalid("--ttl", &ttl, "a duration like 8h, 30m, 45s or 2d")
            })?;
            let secret = dev_secret(&settings)?;
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            let subject = sub.unwrap_or_else(|| format!("{dept}-dev"));
            println!(
                "{}",
                issue_dev_token(&settings.auth, &secret, &subject, &dept, &roles, ttl)?
            );
            Ok(())
        }
    }
}

async fn import_observations(
    db: &crate::service::Db,
    settings: &Settings,
    file: &std::path::Path,
    department: &str,
    batch: Option<usize>,
    rejects: Option<PathBuf>,
    dry_run: bool,
) -> AppResult<()> {
    let identity = local_identity(db, department, &[Role::Submitter]).await?;
    let ctx = WriteContext::cli(identity);
    let input = std::fs::File::open(file).map_err(|e| {
        AppError::invalid("FILE", file.display(), format!("a readable CSV file ({e})"))
    })?;
    let rejects_path = rejects.unwrap_or_else(|| file.with_extension("rejects.csv"));
    let rejects_file = std::fs::File::create(&rejects_path).map_err(|e| {
        AppError::invalid(
            "--rejects",
            rejects_path.display(),
            format!("a writable file ({e})"),
        )
    })?;
    let checkpoint = file.with_extension("progress");
    let options = ImportOptions {
        batch,
        dry_run,
        checkpoint: Some(checkpoint.clone()),
    };
    let started = std::time::Instant::now();
    let mut rejects_writer = std::io::BufWriter::new(rejects_file);
    let summary = import::import_observations(
        db,
        &ctx,
        settings,
        std::io::BufReader::new(input),
        &mut rejects_writer,
        &options,
        |rows| {
            use std::io::Write as _;
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r  {rows} rows read ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
            let _ = err.flush();
        },
    )
    .await?;
    eprintln!();
    drop(rejects_writer);
    if summary.resumed_from > 0 {
        println!(
            "resumed after {} rows committed by an earlier run",
            summary.resumed_from
        );
    }
    println!(
        "{} rows: {} written, {} unchanged, {} rejected{} in {:.1} s; submissions: {:?}",
        summary.rows,
        summary.written,
        summary.unchanged,
        summary.rejected,
        if dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64(),
        summary.submissions
    );
    if summary.rejected > 0 {
        println!("bad rows and their reasons: {}", rejects_path.display());
        if batch.is_none() {
            println!(
                "nothing was written: the file is one transaction; fix the rows and run again"
            );
        }
        return Err(AppError::invalid(
            "FILE",
            file.display(),
            format!("a file without bad rows ({} rejected)", summary.rejected),
        ));
    }
    let _ = std::fs::remove_file(&rejects_path);
    if batch.is_some() && !dry_run {
        let _ = std::fs::remove_file(&checkpoint);
    }
    Ok(())
}

fn dev_secret(settings: &Settings) -> AppResult<String> {
    settings
        .hs256_secret()
        .map_err(|e| AppError::Internal(e.to_string()))?
        .ok_or_else(|| {
            AppError::invalid(
                "auth",
                "jwks_url",
                "an HS256 secret to sign with (tokens of an OIDC provider come from the provider)",
            )
        })
}

async fn serve(settings: Settings) -> AppResult<()> {
    let db = startup::connect(&settings).await?;
    startup::migrate(&db).await?;
    if startup::seed_if_empty(&db, &settings).await? {
        println!("loaded the plan's catalogue and the synthetic demo data into the empty database");
    }
    let (listener, addr) = startup::bind(settings.bind).await?;
    let token =
        if settings.environment == Environment::Development && settings.auth.jwks_url.is_none() {
            let secret = dev_secret(&settings)?;
            let ttl = std::time::Duration::from_secs(8 * 3600);
            Some(issue_dev_token(
                &settings.auth,
                &secret,
                "coordinator-dev",
                "statistics",
                &["viewer"],
                ttl,
            )?)
        } else {
            None
        };
    let app = startup::build(db, settings)?;
    tracing::info!(%addr, "childhub listening");
    println!("childhub is listening on http://{addr}");
    match token {
        Some(token) => {
            println!("Signed in as a statistics-bureau viewer for 8 hours:");
            println!("  GraphiQL:  http://{addr}/graphiql#token={token}");
            println!("  Dashboard: http://{addr}/#token={token}");
        }
        None => println!("GraphiQL: http://{addr}/graphiql    Dashboard: http://{addr}/"),
    }
    startup::serve(listener, app.router, startup::shutdown_signal()).await
}
