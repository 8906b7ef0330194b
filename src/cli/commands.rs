//! One function per command of the command line: each connects, does its one job through the
//! services, and reports on stdout (results) and stderr (progress and problems).

use crate::auth::Role;
use crate::auth::token::{issue_dev_token, parse_ttl};
use crate::config::{Environment, Settings};
use crate::error::{AppError, AppResult};
use crate::report::{ReportFormat, ReportKind};
use crate::service::audit::WriteContext;
use crate::service::catalogue::local_identity;
use crate::service::export::{self, ExportFormat};
use crate::service::import::{self, ImportOptions};
use crate::service::observations::ObservationFilter;
use crate::service::observations::ReadScope;
use crate::service::regions::write as regions;
use crate::{seed, startup};
use std::path::{Path, PathBuf};

/// The database, migrated, with the catalogue and demo loaded when it is the empty embedded one (so
/// that every command works on a fresh machine).
async fn open_database(settings: &Settings) -> AppResult<crate::service::Db> {
    let db = startup::connect(settings).await?;
    startup::migrate(&db).await?;
    startup::seed_if_empty(&db, settings).await?;
    startup::sync_sources(&db, settings).await?;
    Ok(db)
}

/// `childhub sources list`
pub async fn list_sources(settings: &Settings) -> AppResult<()> {
    let db = open_database(settings).await?;
    let sources = crate::sources::all_sources(&db).await?;
    if sources.is_empty() {
        println!(
            "no sources: add [[sources]] to the settings file or use createSource (docs/sources.md)"
        );
        return Ok(());
    }
    println!(
        "{:<28} {:<10} {:<16} {:<8} {:<12} last run",
        "name", "kind", "department", "status", "schedule"
    );
    let departments = crate::service::catalogue::list_departments(&db).await?;
    for s in sources {
        let department = departments
            .iter()
            .find(|d| d.id == s.department_id)
            .map_or("?", |d| d.code.as_str());
        let identity =
            crate::service::catalogue::local_identity(&db, "statistics", &[Role::Viewer]).await?;
        let last = crate::sources::list_runs(&db, &identity, &s.name, 1)
            .await?
            .into_iter()
            .next()
            .map_or("never".to_owned(), |r| {
                format!(
                    "{} {} ({} written, {} rejected)",
                    r.started_at.format("%Y-%m-%d %H:%M"),
                    r.status,
                    r.rows_written,
                    r.rows_rejected
                )
            });
        println!(
            "{:<28} {:<10} {:<16} {:<8} {:<12} {last}",
            s.name,
            s.kind.to_string(),
            department,
            s.status.to_string(),
            s.schedule
        );
    }
    Ok(())
}

/// `childhub sources test|run NAME`
pub async fn pull_source(
    settings: &Settings,
    name: &str,
    department: &str,
    dry_run: bool,
) -> AppResult<()> {
    let db = open_database(settings).await?;
    let identity = local_identity(&db, department, &[Role::Admin, Role::Viewer]).await?;
    let report =
        crate::sources::runner::pull_by_name(&db, settings, &identity, name, dry_run).await?;
    println!(
        "{name}: {}{} — {} fetched, {} {}, {} unchanged, {} rejected{}",
        report.status,
        report
            .http_status
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default(),
        report.fetched,
        report.written,
        if dry_run {
            "would be written"
        } else {
            "written"
        },
        report.unchanged,
        report.rejected,
        report
            .submission_id
            .map(|id| format!("; submission {id} awaits approval"))
            .unwrap_or_default()
    );
    if let Some(error) = &report.error {
        eprintln!("error: {error}");
    }
    if dry_run && !report.preview.is_empty() {
        println!("first rows:");
        for r in &report.preview {
            println!(
                "  {} {} {} {}/{}/{} = {}",
                r.indicator, r.region, r.year, r.sex, r.age_group, r.residence, r.value
            );
        }
    }
    for r in &report.rejects {
        println!(
            "  rejected {}: {} {:?}: {}",
            r.at, r.field, r.value, r.message
        );
    }
    if report.status == crate::vocabulary::RunStatus::Failed {
        return Err(AppError::Upstream(
            report.error.unwrap_or_else(|| "the pull failed".into()),
        ));
    }
    Ok(())
}

/// `childhub healthcheck [--url]`: asks a running hub whether it is ready.
pub async fn healthcheck(settings: &Settings, url: Option<&str>) -> AppResult<()> {
    let base = match url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let mut addr = settings.bind;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{addr}")
        }
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .map_err(|e| AppError::Internal(format!("building the HTTP client: {e}")))?;
    let answer = client.get(format!("{base}/readyz")).send().await;
    match answer {
        Ok(response) if response.status().is_success() => {
            println!("ready: {base}");
            Ok(())
        }
        Ok(response) => Err(AppError::Unavailable(format!(
            "{base}/readyz answered {}: not ready",
            response.status()
        ))),
        Err(_) => Err(AppError::Unavailable(format!(
            "no answer from {base}/readyz within two seconds"
        ))),
    }
}

/// `childhub migrate`
pub async fn migrate(settings: &Settings) -> AppResult<()> {
    let db = startup::connect(settings).await?;
    startup::migrate(&db).await?;
    println!("database is up to date");
    Ok(())
}

/// `childhub seed [--demo]`
pub async fn seed(settings: &Settings, demo: bool) -> AppResult<()> {
    let db = startup::connect(settings).await?;
    startup::migrate(&db).await?;
    let load = startup::under_setup_lock(&db, seed::load_catalogue(&db)).await?;
    println!(
        "catalogue: {} departments, {} domains, {} indicators, {} targets, {} dimension codes added",
        load.departments, load.domains, load.indicators, load.targets, load.dimension_codes
    );
    if demo {
        let load = startup::under_setup_lock(&db, seed::load_demo(&db)).await?;
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

/// `childhub import-regions FILE --as DEPT`
pub async fn import_regions(settings: &Settings, file: &Path, department: &str) -> AppResult<()> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        AppError::invalid("FILE", file.display(), format!("a readable CSV file ({e})"))
    })?;
    let db = open_database(settings).await?;
    let ctx = WriteContext::cli(local_identity(&db, department, &[Role::Admin]).await?);
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

/// A file other than the bulk CSV, read as the Reporting page reads it (`service::upload`): every
/// problem at its cell (on standard error and in the rejects file, a CSV with a BOM so that Excel shows
/// the Chinese), warnings shown and written only with `--confirm-warnings`, one submission.
async fn import_file(
    db: &crate::service::Db,
    ctx: &WriteContext,
    settings: &Settings,
    file: &Path,
    rejects_path: &Path,
    args: &ImportArgs,
) -> AppResult<()> {
    use crate::service::upload::{self, UploadOptions};
    let started = std::time::Instant::now();
    let bytes = std::fs::read(file)
        .map_err(|e| AppError::invalid("FILE", file.display(), format!("a readable file ({e})")))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let options = UploadOptions {
        year: args.year,
        dry_run: args.dry_run,
        confirm_warnings: args.confirm_warnings,
    };
    let done = upload::submit_file(db, ctx, settings, bytes, &name, &options).await?;
    let intake = &done.intake;
    eprintln!(
        "read {name}: {}{}, {} layout, {} values{}",
        intake.format.name(),
        intake.encoding.map(|e| format!(" {e}")).unwrap_or_default(),
        intake.layout.name(),
        intake.rows.len(),
        match intake.mapped.len() {
            0 => String::new(),
            n => format!(", {n} names read as codes"),
        }
    );
    if !done.problems.is_empty() {
        std::fs::write(rejects_path, upload::problems_csv(&done.problems)).map_err(|e| {
            AppError::invalid(
                "--rejects",
                rejects_path.display(),
                format!("a writable file ({e})"),
            )
        })?;
        for p in done.problems.iter().take(20) {
            eprintln!("{}: {:?}: {}", p.cell, p.value, p.message);
        }
        if done.problems.len() > 20 {
            eprintln!("… and {} more", done.problems.len() - 20);
        }
        println!("every problem and its cell: {}", rejects_path.display());
        return Err(AppError::invalid(
            "FILE",
            file.display(),
            format!(
                "a file without problems ({} found; nothing was written): fix them in the file and import it again",
                done.problems.len()
            ),
        ));
    }
    let _ = std::fs::remove_file(rejects_path);
    for (w, cell) in &done.warnings {
        eprintln!("warning at {cell}: {}", w.message);
    }
    if done.needs_confirmation {
        return Err(AppError::invalid(
            "--confirm-warnings",
            format!("{} warnings", done.warnings.len()),
            "the warnings looked at: import again with --confirm-warnings to submit the values as they are (nothing was written)",
        ));
    }
    let outcome = &done.outcome;
    println!(
        "{} rows: {} written, {} unchanged, 0 rejected{} in {:.1} s; submissions: {:?}",
        intake.rows.len(),
        outcome.written,
        outcome.unchanged,
        if args.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64(),
        outcome
            .submission
            .as_ref()
            .map(|s| s.id)
            .into_iter()
            .collect::<Vec<_>>()
    );
    Ok(())
}

/// Standard output for documents (exports, reports, the schema). When the reader goes away — `… | head`
/// — the process ends quietly, as a Unix tool killed by SIGPIPE would: the reader has what it wanted.
/// (Rust ignores SIGPIPE so that a server survives closed sockets; restoring it would risk that.)
pub struct QuietStdout<W>(pub W);

impl<W: std::io::Write> std::io::Write for QuietStdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(quiet_on_closed_pipe)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(quiet_on_closed_pipe)
    }
}

fn quiet_on_closed_pipe(e: std::io::Error) -> std::io::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    e
}

/// Writes a whole document to standard output (see [`QuietStdout`]).
pub fn to_stdout(text: &str) {
    use std::io::Write as _;
    let mut out = QuietStdout(std::io::stdout().lock());
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `childhub export observations …`
pub async fn export_observations(
    settings: &Settings,
    filter: &ObservationFilter,
    format: ExportFormat,
    department: &str,
    out: Option<PathBuf>,
) -> AppResult<()> {
    let db = open_database(settings).await?;
    let identity = local_identity(&db, department, &[Role::Viewer]).await?;
    let scope = ReadScope::load(&db, &identity).await?;
    let rows = match out {
        // A workbook, for a person with Excel.
        Some(path)
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) =>
        {
            let (bytes, rows) = export::export_xlsx(&db, scope, filter, usize::MAX).await?;
            std::fs::write(&path, &bytes).map_err(|e| {
                AppError::invalid("--out", path.display(), format!("a writable file ({e})"))
            })?;
            rows
        }
        // A file is for Excel too: CSV with a BOM. Standard output feeds other programs: without.
        Some(path) => {
            let file = std::fs::File::create(&path).map_err(|e| {
                AppError::invalid("--out", path.display(), format!("a writable file ({e})"))
            })?;
            let mut writer = std::io::BufWriter::new(file);
            let exporter = export::Exporter::start(scope, filter, format)?.for_excel();
            export::export_to(exporter, &db, usize::MAX, &mut writer).await?
        }
        None => {
            let mut writer = std::io::BufWriter::new(QuietStdout(std::io::stdout().lock()));
            export::export(&db, scope.clone(), filter, format, usize::MAX, &mut writer).await?
        }
    };
    eprintln!("exported {rows} observations");
    Ok(())
}

/// `childhub export sdmx --indicator …`
pub async fn export_sdmx(
    settings: &Settings,
    indicator: String,
    from: Option<i32>,
    to: Option<i32>,
    department: &str,
    out: Option<PathBuf>,
) -> AppResult<()> {
    let db = open_database(settings).await?;
    let identity = local_identity(&db, department, &[Role::Viewer]).await?;
    let query = crate::service::sdmx::SdmxQuery {
        indicator,
        year_from: from,
        year_to: to,
        ..Default::default()
    };
    let scope = ReadScope::load(&db, &identity).await?;
    let message = crate::service::sdmx::data_message(&db, &scope, &query, usize::MAX).await?;
    let text =
        serde_json::to_string_pretty(&message).map_err(|e| AppError::Internal(e.to_string()))?;
    match out {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| {
                AppError::invalid("--out", path.display(), format!("a writable file ({e})"))
            })?;
            eprintln!("wrote {}", path.display());
        }
        None => to_stdout(&format!("{text}\n")),
    }
    Ok(())
}

/// `childhub report --year … --kind … --format …`
pub async fn report(
    settings: &Settings,
    year: i32,
    kind: ReportKind,
    format: ReportFormat,
    out: Option<PathBuf>,
    region: Option<String>,
    department: &str,
) -> AppResult<()> {
    let db = open_database(settings).await?;
    let identity = local_identity(&db, department, &[Role::Viewer]).await?;
    let request = crate::report::ReportRequest {
        year,
        kind,
        format,
        region,
    };
    let snapshot = crate::service::snapshot::Snapshot::load(&db).await?;
    let body = crate::report::render(&db, &snapshot, &identity, settings, request).await?;
    match out {
        Some(path) => {
            std::fs::write(&path, body).map_err(|e| {
                AppError::invalid("--out", path.display(), format!("a writable file ({e})"))
            })?;
            eprintln!("wrote {}", path.display());
        }
        None => to_stdout(&body),
    }
    Ok(())
}

/// `childhub token --dept … --role …`
pub fn token(
    settings: &Settings,
    dept: &str,
    roles: &[String],
    ttl: &str,
    sub: Option<String>,
) -> AppResult<()> {
    if settings.environment == Environment::Production {
        return Err(AppError::invalid(
            "environment",
            "production",
            "development: in production tokens come from the identity provider; `childhub token` signs development tokens only",
        ));
    }
    for role in roles {
        if Role::parse(role).is_none() {
            return Err(AppError::invalid(
                "--role",
                role,
                "viewer, submitter, approver or admin",
            ));
        }
    }
    let ttl = parse_ttl(ttl)
        .ok_or_else(|| AppError::invalid("--ttl", ttl, "a duration like 8h, 30m, 45s or 2d"))?;
    let secret = dev_secret(settings)?;
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let subject = sub.unwrap_or_else(|| format!("{dept}-dev"));
    println!(
        "{}",
        issue_dev_token(&settings.auth, &secret, &subject, dept, &roles, ttl)?
    );
    Ok(())
}

/// `childhub import observations FILE --as DEPT`
/// What an import that stopped on an unavailable database kept, for the person who runs it again.
fn kept_after_failure(batch: Option<usize>, checkpoint: &Path) -> String {
    match batch {
        None => "the database was busy or unreachable: nothing was written (the file is one \
                 transaction); run the same command again"
            .to_owned(),
        Some(_) => format!(
            "the database was busy or unreachable: the first {} rows of the file are committed and \
             the batch in progress was not written; run the same command again to resume from there",
            import::read_checkpoint(Some(checkpoint))
        ),
    }
}

/// How `childhub import observations` was asked to import.
#[derive(Debug, Default)]
pub struct ImportArgs {
    pub batch: Option<usize>,
    pub rejects: Option<PathBuf>,
    pub dry_run: bool,
    pub year: Option<i32>,
    pub confirm_warnings: bool,
}

pub async fn import_observations(
    settings: &Settings,
    file: &Path,
    department: &str,
    args: ImportArgs,
) -> AppResult<()> {
    let (batch, dry_run) = (args.batch, args.dry_run);
    let db = &open_database(settings).await?;
    let identity = local_identity(db, department, &[Role::Submitter]).await?;
    let ctx = WriteContext::cli(identity);
    let mut input = std::fs::File::open(file)
        .map_err(|e| AppError::invalid("FILE", file.display(), format!("a readable file ({e})")))?;
    let rejects_path = args
        .rejects
        .clone()
        .unwrap_or_else(|| file.with_extension("rejects.csv"));
    let mut head = Vec::with_capacity(64 * 1024);
    {
        use std::io::{Read as _, Seek as _};
        (&mut input)
            .take(64 * 1024)
            .read_to_end(&mut head)
            .and_then(|_| input.rewind())
            .map_err(|e| {
                AppError::invalid("FILE", file.display(), format!("a readable file ({e})"))
            })?;
    }
    if !import::is_bulk_csv(&head) {
        if batch.is_some() {
            return Err(AppError::invalid(
                "--batch",
                file.display(),
                "the bulk CSV (UTF-8, header indicator,region,year,…,value): other files are read whole, as one submission",
            ));
        }
        return import_file(db, &ctx, settings, file, &rejects_path, &args).await;
    }
    let rejects_file = std::fs::File::create(&rejects_path).map_err(|e| {
        AppError::invalid(
            "--rejects",
            rejects_path.display(),
            format!("a writable file ({e})"),
        )
    })?;
    let checkpoint = file.with_extension("progress");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = ImportOptions {
        batch,
        dry_run,
        checkpoint: Some(checkpoint.clone()),
        stop: Some(stop.clone()),
    };
    let started = std::time::Instant::now();
    let mut rejects_writer = std::io::BufWriter::new(rejects_file);
    let outcome = {
        let importing = import::import_observations(
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
        );
        // The first Ctrl-C stops the import at the next batch boundary, so that what it reports as kept is
        // exactly what is committed; a second one stops at once (the open transaction rolls back when the
        // import is dropped, and the checkpoint may then lag one batch behind).
        tokio::pin!(importing);
        tokio::select! {
            outcome = &mut importing => Some(outcome),
            _ = tokio::signal::ctrl_c() => {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                eprintln!("\nstopping after the current batch (Ctrl-C again stops at once)");
                tokio::select! {
                    outcome = &mut importing => Some(outcome),
                    _ = tokio::signal::ctrl_c() => None,
                }
            }
        }
    };
    eprintln!();
    drop(rejects_writer);
    let summary = match outcome {
        Some(Ok(summary)) if !summary.interrupted => summary,
        Some(Ok(summary)) => interrupted(&rejects_path, batch, dry_run, summary.committed, true),
        Some(Err(e)) => {
            discard_if_no_rows(&rejects_path);
            if matches!(e, AppError::Unavailable(_)) && !dry_run {
                eprintln!("{}", kept_after_failure(batch, &checkpoint));
            }
            return Err(e);
        }
        None => {
            let kept = import::read_checkpoint(Some(&checkpoint));
            interrupted(&rejects_path, batch, dry_run, kept, false)
        }
    };
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

/// Reports an import stopped by Ctrl-C and ends the process with 130 (128 + SIGINT, as a shell reports a
/// command stopped by Ctrl-C). `exact`: stopped at a batch boundary, so `kept` is what is committed;
/// otherwise at least that much is.
fn interrupted(rejects: &Path, batch: Option<usize>, dry_run: bool, kept: usize, exact: bool) -> ! {
    discard_if_no_rows(rejects);
    match (batch, dry_run) {
        (_, true) => eprintln!("interrupted: a dry run writes nothing"),
        (None, false) => {
            eprintln!("interrupted: nothing was written (the file is one transaction, rolled back)")
        }
        (Some(_), false) => eprintln!(
            "interrupted: {} the first {kept} rows are committed (pending approval); run the same \
             command again to go on from there",
            if exact { "exactly" } else { "at least" }
        ),
    }
    if rejects.exists() {
        eprintln!("bad rows found so far: {}", rejects.display());
    }
    std::process::exit(130);
}

/// Removes a rejects file that holds its header only: an empty rejects file would read as "there were
/// bad rows".
fn discard_if_no_rows(path: &Path) {
    let lines = std::fs::read_to_string(path).map_or(0, |text| text.lines().count());
    if lines <= 1 {
        let _ = std::fs::remove_file(path);
    }
}

fn dev_secret(settings: &Settings) -> AppResult<String> {
    use secrecy::ExposeSecret;
    settings
        .hs256_secret()
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map(|s| s.expose_secret().to_owned())
        .ok_or_else(|| {
            AppError::invalid(
                "auth",
                "jwks_url",
                "an HS256 secret to sign with (tokens of an OIDC provider come from the provider)",
            )
        })
}

/// `childhub serve`
pub async fn serve(settings: Settings) -> AppResult<()> {
    let db = startup::connect(&settings).await?;
    startup::migrate(&db).await?;
    let seeded = startup::seed_if_empty(&db, &settings).await?;
    startup::sync_sources(&db, &settings).await?;
    if seeded {
        println!("loaded the plan's catalogue and the synthetic demo data into the empty database");
    } else if seed::is_empty(&db).await? {
        // A new PostgreSQL database is not seeded by itself (production must not get demo data).
        eprintln!(
            "note: the database has no catalogue yet, so the graph is empty: run `childhub seed` to load the plan's 41 targets (add --demo for synthetic values)"
        );
    }
    let (listener, addr) = startup::bind(settings.bind).await?;
    let how = if settings.oidc_signin() {
        "with the city's identity provider"
    } else if settings.environment == Environment::Development {
        "development: choose a department and roles"
    } else {
        "not configured: set signin.client_id (docs/operations.md); the API takes bearer tokens"
    };
    let app = startup::build(db, settings)?;
    tracing::info!(%addr, "childhub listening");
    println!("childhub is listening on http://{addr}");
    println!("  Sign in:   http://{addr}/signin   ({how})");
    println!("  Dashboard: http://{addr}/    GraphiQL: http://{addr}/graphiql");
    startup::serve(listener, app.router, startup::shutdown_signal()).await
}
