//! The command line: the arguments (clap) and the dispatch to [`commands`], one function per command.
//! Each command loads the settings, does one thing and prints a short human-readable result on stdout.

mod commands;

use crate::config::{Environment, Overrides, Settings};
use crate::error::{AppError, AppResult};
use crate::report::{ReportFormat, ReportKind};
use crate::service::export::ExportFormat;
use crate::service::observations::ObservationFilter;
use crate::{graphql, telemetry};
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
        /// Also load the synthetic demo data (15 townships, 2020 onwards); never on a real database.
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
    /// Source connectors: list them, test one (fetch and map without writing), or pull one now.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Import data from a file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export data to a file or stdout.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Write a monitoring report (annual, mid-term or final) as HTML or Markdown.
    Report {
        /// The year reported on, e.g. 2025.
        #[arg(long)]
        year: i32,
        /// annual, mid-term (中期评估) or final (终期评估).
        #[arg(long, value_enum, default_value = "annual")]
        kind: ReportKind,
        /// html (with charts) or markdown.
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
    /// Exit 0 when a running hub answers `/readyz` with 200 within two seconds, 1 otherwise: a
    /// container healthcheck that needs no curl in the image.
    Healthcheck {
        /// The hub's base URL (default: the configured `bind`, with 0.0.0.0 read as 127.0.0.1).
        #[arg(long)]
        url: Option<String>,
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
    /// Observations from a file, checked like `submitObservations` and written as pending submissions of
    /// the department. The bulk CSV (UTF-8, header indicator,region,year,sex,age_group,residence,value,
    /// numerator,denominator — what `export observations` writes) is streamed, in batches if asked; any
    /// other file — .xlsx, .xls, .ods, CSV in GBK, Chinese headers, names for codes, the wide layout, the
    /// hub's template — is read as the Reporting page reads it, as one submission.
    Observations {
        /// The file.
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
        /// The year of a sheet without a year column (files other than the bulk CSV).
        #[arg(long)]
        year: Option<i32>,
        /// Write the values although the checks warned (a jump, parts that do not add up): the warnings
        /// were looked at. The confirmation is kept with the submission.
        #[arg(long)]
        confirm_warnings: bool,
    },
}

/// `childhub sources …`
#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Every source with its kind, department, schedule, status and last run.
    List,
    /// Fetches and maps a source and checks its rows without writing: the first rows and every problem.
    Test {
        /// The source's name.
        name: String,
        /// The department acting (its admin, or a coordinator's).
        #[arg(long = "as", value_name = "DEPT", default_value = "statistics")]
        department: String,
    },
    /// Pulls a source now: its valid rows land as a pending submission.
    Run {
        /// The source's name.
        name: String,
        /// The department acting (its admin, or a coordinator's).
        #[arg(long = "as", value_name = "DEPT", default_value = "statistics")]
        department: String,
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
        /// First year.
        #[arg(long)]
        from: Option<i32>,
        /// Last year.
        #[arg(long)]
        to: Option<i32>,
        /// csv or json.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// The department reading, e.g. `statistics` (default: statistics, a coordinator).
        #[arg(long = "as", default_value = "statistics")]
        department: String,
        /// Output file (default: stdout). A file is for Excel: CSV starts with a UTF-8 BOM, and a name
        /// ending in `.xlsx` writes a workbook.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One indicator's values as an SDMX-JSON data message, as the department (`--as`) may read them.
    Sdmx {
        /// The indicator code, e.g. HEA-03.
        #[arg(long)]
        indicator: String,
        /// First year.
        #[arg(long)]
        from: Option<i32>,
        /// Last year.
        #[arg(long)]
        to: Option<i32>,
        /// The department reading (default: statistics, a coordinator).
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
        .map_err(|e| AppError::Settings(e.to_string()))?;
    let _telemetry =
        telemetry::init(&settings.log, &settings.tracing).map_err(AppError::Settings)?;
    match cli.command {
        Command::Serve { .. } => commands::serve(settings).await,
        Command::Migrate => commands::migrate(&settings).await,
        Command::Seed { demo } => commands::seed(&settings, demo).await,
        Command::Healthcheck { url } => commands::healthcheck(&settings, url.as_deref()).await,
        Command::Schema => {
            commands::to_stdout(&graphql::sdl());
            Ok(())
        }
        Command::ImportRegions { file, department } => {
            commands::import_regions(&settings, &file, &department).await
        }
        Command::Import(ImportCommand::Observations {
            file,
            department,
            batch,
            rejects,
            dry_run,
            year,
            confirm_warnings,
        }) => {
            let options = commands::ImportArgs {
                batch,
                rejects,
                dry_run,
                year,
                confirm_warnings,
            };
            commands::import_observations(&settings, &file, &department, options).await
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
            let filter = ObservationFilter {
                indicators: (!indicators.is_empty()).then_some(indicators),
                regions: (!regions.is_empty()).then_some(regions),
                year_from: from,
                year_to: to,
                ..ObservationFilter::default()
            };
            commands::export_observations(&settings, &filter, format, &department, out).await
        }
        Command::Export(ExportCommand::Sdmx {
            indicator,
            from,
            to,
            department,
            out,
        }) => commands::export_sdmx(&settings, indicator, from, to, &department, out).await,
        Command::Report {
            year,
            kind,
            format,
            out,
            region,
            department,
        } => commands::report(&settings, year, kind, format, out, region, &department).await,
        Command::Sources(SourcesCommand::List) => commands::list_sources(&settings).await,
        Command::Sources(SourcesCommand::Test { name, department }) => {
            commands::pull_source(&settings, &name, &department, true).await
        }
        Command::Sources(SourcesCommand::Run { name, department }) => {
            commands::pull_source(&settings, &name, &department, false).await
        }
        Command::Token {
            dept,
            roles,
            ttl,
            sub,
        } => commands::token(&settings, &dept, &roles, &ttl, sub),
    }
}
