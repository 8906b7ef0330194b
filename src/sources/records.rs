//! Turning what a source answers into records, page by page: JSON (records at a pointer; paged by next
//! links, the `Link` header or cursors), files (CSV in any encoding the hub reads, `.xlsx`, `.xls` and
//! `.ods`, through the one file reader), SDMX-JSON data messages (series and flat forms), GraphQL
//! (cursor paging through `pageInfo`), and SQL tables (streamed from a read-only connection, never
//! loaded whole).

use crate::config::ConnectorSettings;
use crate::sources::config::SourceConfig;
use crate::sources::fetch::{Fetched, Fetcher, PullError, Validators};
use crate::vocabulary::SourceKind;
use futures::StreamExt;
use sea_orm::{ConnectionTrait, FromQueryResult, StreamTrait};
use serde_json::{Map, Value};

/// One record of a source, with where it was (for reports a department can find it by).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// `page 2, record 14`, `line 37`, `row 12`, `series 0:3:1, observation 2`.
    pub at: String,
    pub value: Value,
}

/// Records per chunk handed on.
pub const CHUNK: usize = 10_000;

/// How a pull starts.
pub enum Opened {
    /// The source answered "not modified": nothing to do.
    NotModified {
        http_status: u16,
    },
    Pages(Box<Pager>),
}

/// Reads a source's records a page (or a chunk) at a time.
pub struct Pager {
    state: State,
    /// The HTTP status of the latest answer.
    pub http_status: Option<u16>,
    /// The validators of the first answer, for the next conditional request.
    pub validators: Validators,
}

enum State {
    /// Records already read, handed on in chunks (CSV, SDMX, a single page).
    Ready {
        records: std::vec::IntoIter<Record>,
    },
    Json {
        fetcher: Box<Fetcher>,
        config: Box<SourceConfig>,
        /// The first page, read with the (conditional) opening request.
        first: Option<Vec<Record>>,
        next: Option<String>,
        page: usize,
        max_pages: usize,
    },
    Graphql {
        fetcher: Box<Fetcher>,
        config: Box<SourceConfig>,
        variables: Option<Value>,
        page: usize,
        max_pages: usize,
    },
    /// A task streams the table and hands chunks over; the channel holds at most two, so a big table
    /// never sits in memory whole.
    Sql {
        chunks: tokio::sync::mpsc::Receiver<Result<Vec<Record>, PullError>>,
    },
    Done,
}

fn parse_json(body: &[u8], at: &str) -> Result<Value, PullError> {
    serde_json::from_slice(body).map_err(|e| {
        PullError::fatal(format!(
            "{at}: the answer is not JSON (line {}, column {}: {})",
            e.line(),
            e.column(),
            e.classify_name()
        ))
    })
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not valid JSON syntax",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "it ends too early",
        }
    }
}

/// The records array of a JSON answer: at the configured pointer, else the answer (or its `data`) when it
/// is an array.
fn records_of(body: &Value, pointer: Option<&str>, page: usize) -> Result<Vec<Record>, PullError> {
    let found = match pointer {
        Some(p) => body.pointer(p),
        None if body.is_array() => Some(body),
        None => body.get("data").filter(|d| d.is_array()),
    };
    let items = found.and_then(Value::as_array).ok_or_else(|| {
        PullError::fatal(format!(
            "page {page}: no array of records at {} in the answer",
            pointer.unwrap_or("its top (set `records` to the JSON pointer of the array)")
        ))
    })?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            at: format!("page {page}, record {}", i + 1),
            value: v.clone(),
        })
        .collect())
}

/// Resolves a next link against the page it came from.
fn resolve(base: &str, next: &str) -> Option<String> {
    reqwest::Url::parse(base)
        .ok()?
        .join(next)
        .ok()
        .map(|u| u.to_string())
}

/// `url` with `param` set to `value`.
fn with_param(url: &str, param: &str, value: &str) -> Option<String> {
    let mut parsed = reqwest::Url::parse(url).ok()?;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != param)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(param, value);
    Some(parsed.to_string())
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A file a source serves as records: one per row of its first visible sheet below the header row,
/// fields by their headers. The hub's one file reader reads it (`spreadsheet`): CSV in UTF-8 (with or
/// without a BOM), GBK/GB18030 or UTF-16 (`http_csv`, split at `delimiter` when one is configured), or
/// an `.xlsx`, `.xls` or `.ods` workbook (`http_xlsx`; formulas count with their cached values). A CSV
/// row is at `line N`, a workbook's at `Sheet1 row N`.
pub fn file_records(
    body: &[u8],
    kind: SourceKind,
    delimiter: Option<&str>,
) -> Result<Vec<Record>, PullError> {
    use crate::spreadsheet::{self, Format, ReadLimits, Value as Cell};
    let limits = ReadLimits::default();
    let book = match delimiter.and_then(|d| d.bytes().next()) {
        Some(d) if kind == SourceKind::HttpCsv => {
            spreadsheet::read_delimited(body, "source.csv", limits, d)
        }
        _ => spreadsheet::read(body, "source.csv", limits),
    }
    .map_err(|e| PullError::fatal(format!("the file cannot be read: {e}")))?;
    let workbook = book.format != Format::Csv;
    if kind == SourceKind::HttpXlsx && !workbook {
        return Err(PullError::fatal(
            "the source answered something that is not a workbook (.xlsx, .xls or .ods); a CSV file is kind http_csv",
        ));
    }
    let Some(sheet) = book.sheets.iter().find(|s| !s.hidden) else {
        return Ok(Vec::new());
    };
    let mut rows = sheet.rows.iter();
    let Some(header) = rows.next() else {
        return Err(PullError::fatal("the file has no header line"));
    };
    let headers: Vec<(u32, String)> = header
        .cells
        .iter()
        .map(|(col, v)| (*col, v.text()))
        .filter(|(_, h)| !h.is_empty())
        .collect();
    let json = |cell: &Cell| match cell {
        Cell::Empty => None,
        Cell::Number(n) => serde_json::Number::from_f64(*n).map(Value::Number),
        Cell::Bool(b) => Some(Value::Bool(*b)),
        // Text as typed (the mapping reads `97.3%` or `1,687`); an uncomputed formula or an error value
        // as the spreadsheet shows it, so the mapping's error names what was found.
        other => Some(Value::String(other.text())),
    };
    Ok(rows
        .map(|row| Record {
            at: if workbook {
                format!("{} row {}", sheet.name, row.number)
            } else {
                format!("line {}", row.number)
            },
            value: Value::Object(
                headers
                    .iter()
                    .filter_map(|(col, h)| Some((h.clone(), json(row.get(*col))?)))
                    .collect(),
            ),
        })
        .collect())
}

/// An SDMX-JSON data message (1.0 or 2.0; series or flat observations) as records: one per
/// observation, each dimension's id with the value's id, `OBS_VALUE` with the number.
pub fn sdmx_records(message: &Value) -> Result<Vec<Record>, PullError> {
    let data = message.get("data").unwrap_or(message);
    let structure = data
        .get("structure")
        .or_else(|| data.get("structures").and_then(|s| s.get(0)))
        .or_else(|| message.get("structure"))
        .ok_or_else(|| PullError::fatal("the SDMX message has no structure"))?;
    let dimensions = structure
        .get("dimensions")
        .ok_or_else(|| PullError::fatal("the SDMX structure has no dimensions"))?;
    let list = |key: &str| -> Vec<(String, Vec<String>)> {
        dimensions
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|d| {
                let id = d["id"].as_str().unwrap_or_default().to_owned();
                let values = d["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
                    .collect();
                (id, values)
            })
            .collect()
    };
    let (series_dims, observation_dims) = (list("series"), list("observation"));
    let dataset = data
        .get("dataSets")
        .and_then(|d| d.get(0))
        .ok_or_else(|| PullError::fatal("the SDMX message has no data set"))?;
    let decode = |key: &str,
                  dims: &[(String, Vec<String>)],
                  fields: &mut Map<String, Value>|
     -> Result<(), PullError> {
        if key.is_empty() {
            return Ok(());
        }
        for (position, index) in key.split(':').enumerate() {
            let (id, values) = dims.get(position).ok_or_else(|| {
                PullError::fatal(format!("SDMX key {key} has more positions than dimensions"))
            })?;
            let value = index
                .parse::<usize>()
                .ok()
                .and_then(|i| values.get(i))
                .ok_or_else(|| {
                    PullError::fatal(format!("SDMX key {key}: no value {index} of {id}"))
                })?;
            fields.insert(id.clone(), Value::String(value.clone()));
        }
        Ok(())
    };
    let mut out = Vec::new();
    let mut push = |series_key: &str, observations: &Map<String, Value>| -> Result<(), PullError> {
        for (obs_key, obs) in observations {
            let mut fields = Map::new();
            decode(series_key, &series_dims, &mut fields)?;
            decode(obs_key, &observation_dims, &mut fields)?;
            fields.insert(
                "OBS_VALUE".into(),
                obs.get(0).cloned().unwrap_or(Value::Null),
            );
            out.push(Record {
                at: if series_key.is_empty() {
                    format!("observation {obs_key}")
                } else {
                    format!("series {series_key}, observation {obs_key}")
                },
                value: Value::Object(fields),
            });
        }
        Ok(())
    };
    if let Some(series) = dataset.get("series").and_then(Value::as_object) {
        for (key, s) in series {
            if let Some(observations) = s.get("observations").and_then(Value::as_object) {
                push(key, observations)?;
            }
        }
    } else if let Some(observations) = dataset.get("observations").and_then(Value::as_object) {
        push("", observations)?;
    }
    Ok(out)
}

impl Pager {
    fn ready(records: Vec<Record>, http_status: Option<u16>, validators: Validators) -> Pager {
        Pager {
            state: State::Ready {
                records: records.into_iter(),
            },
            http_status,
            validators,
        }
    }

    /// The next chunk of records, or `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<Record>>, PullError> {
        match &mut self.state {
            State::Done => Ok(None),
            State::Ready { records } => {
                let chunk: Vec<Record> = records.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    self.state = State::Done;
                    return Ok(None);
                }
                Ok(Some(chunk))
            }
            State::Json {
                fetcher,
                config,
                first,
                next,
                page,
                max_pages,
            } => {
                if let Some(records) = first.take() {
                    return Ok(Some(records));
                }
                let Some(url) = next.take() else {
                    self.state = State::Done;
                    return Ok(None);
                };
                *page += 1;
                if *page > *max_pages {
                    return Err(PullError::fatal(format!(
                        "the source has more than {max_pages} pages (connectors.max_pages)"
                    )));
                }
                let fetched = fetcher.get(&url, &Validators::default()).await?;
                self.http_status = Some(fetched.status);
                let at = format!("page {page}");
                let body = parse_json(&fetched.body, &at)?;
                let records = records_of(&body, config.records.as_deref(), *page)?;
                *next = next_page(config, &url, &body, &fetched);
                Ok(Some(records))
            }
            State::Graphql {
                fetcher,
                config,
                variables,
                page,
                max_pages,
            } => {
                let Some(vars) = variables.take() else {
                    self.state = State::Done;
                    return Ok(None);
                };
                *page += 1;
                if *page > *max_pages {
                    return Err(PullError::fatal(format!(
                        "the source has more than {max_pages} pages (connectors.max_pages)"
                    )));
                }
                let url = config.url.clone().unwrap_or_default();
                let request = serde_json::json!({ "query": config.query, "variables": vars });
                let fetched = fetcher.post_json(&url, &request).await?;
                self.http_status = Some(fetched.status);
                let body = parse_json(&fetched.body, &format!("page {page}"))?;
                if let Some(errors) = body
                    .get("errors")
                    .and_then(Value::as_array)
                    .filter(|e| !e.is_empty())
                {
                    let messages: Vec<&str> = errors
                        .iter()
                        .filter_map(|e| e["message"].as_str())
                        .collect();
                    return Err(PullError::fatal(format!(
                        "the GraphQL service answered errors: {}",
                        messages.join("; ")
                    )));
                }
                let records = records_of(&body, config.records.as_deref(), *page)?;
                if let (Some(pointer), Some(param)) = (&config.cursor, &config.cursor_param)
                    && let Some(info) = body.pointer(pointer)
                    && info["hasNextPage"] == Value::Bool(true)
                    && let Some(cursor) = text_of(&info["endCursor"])
                {
                    let mut more = vars.clone();
                    if !more.is_object() {
                        more = Value::Object(Map::new());
                    }
                    more[param.as_str()] = Value::String(cursor);
                    *variables = Some(more);
                }
                Ok(Some(records))
            }
            State::Sql { chunks } => match chunks.recv().await {
                Some(Ok(chunk)) => Ok(Some(chunk)),
                Some(Err(e)) => Err(e),
                None => {
                    self.state = State::Done;
                    Ok(None)
                }
            },
        }
    }
}

/// The next page's URL of a JSON source, if any.
fn next_page(config: &SourceConfig, url: &str, body: &Value, fetched: &Fetched) -> Option<String> {
    match config.next.as_deref() {
        Some("link") => fetched.link_next.as_deref().and_then(|n| resolve(url, n)),
        Some(pointer) => body
            .pointer(pointer)
            .and_then(text_of)
            .and_then(|n| resolve(url, &n)),
        None => match (&config.cursor, &config.cursor_param) {
            (Some(pointer), Some(param)) => body
                .pointer(pointer)
                .and_then(text_of)
                .and_then(|c| with_param(url, param, &c)),
            _ => None,
        },
    }
}

/// A database error in words, without the connection string.
fn database_error(e: &sea_orm::DbErr) -> String {
    match e {
        sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_) => {
            "cannot connect to the source database".to_owned()
        }
        other => other
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or("database error")
            .to_owned(),
    }
}

/// Starts a pull: the first request (conditional for file-like sources), or the SQL stream.
pub async fn open(
    config: &SourceConfig,
    settings: &ConnectorSettings,
    validators: &Validators,
) -> Result<Opened, PullError> {
    if config.kind == SourceKind::Sql {
        return open_sql(config).await.map(|p| Opened::Pages(Box::new(p)));
    }
    let fetcher = Fetcher::new(settings, config.auth.as_ref())?;
    let url = config.url.clone().unwrap_or_default();
    match config.kind {
        SourceKind::HttpCsv
        | SourceKind::HttpXlsx
        | SourceKind::SdmxJson
        | SourceKind::HttpJson => {
            let fetched = fetcher.get(&url, validators).await?;
            if fetched.not_modified() {
                return Ok(Opened::NotModified { http_status: 304 });
            }
            let kept = Validators {
                etag: fetched.etag.clone(),
                last_modified: fetched.last_modified.clone(),
            };
            let status = Some(fetched.status);
            match config.kind {
                SourceKind::HttpCsv | SourceKind::HttpXlsx => {
                    let records =
                        file_records(&fetched.body, config.kind, config.delimiter.as_deref())?;
                    Ok(Opened::Pages(Box::new(Pager::ready(records, status, kept))))
                }
                SourceKind::SdmxJson => {
                    let message = parse_json(&fetched.body, "the message")?;
                    let records = sdmx_records(&message)?;
                    Ok(Opened::Pages(Box::new(Pager::ready(records, status, kept))))
                }
                _ => {
                    // The first page is read now (it was the conditional request); the rest follow.
                    let body = parse_json(&fetched.body, "page 1")?;
                    let records = records_of(&body, config.records.as_deref(), 1)?;
                    let next = next_page(config, &url, &body, &fetched);
                    Ok(Opened::Pages(Box::new(Pager {
                        state: State::Json {
                            fetcher: Box::new(fetcher),
                            config: Box::new(config.clone()),
                            first: Some(records),
                            next,
                            page: 1,
                            max_pages: settings.max_pages,
                        },
                        http_status: status,
                        validators: kept,
                    })))
                }
            }
        }
        SourceKind::Graphql => Ok(Opened::Pages(Box::new(Pager {
            state: State::Graphql {
                fetcher: Box::new(fetcher),
                config: Box::new(config.clone()),
                variables: Some(
                    config
                        .variables
                        .clone()
                        .unwrap_or(Value::Object(Map::new())),
                ),
                page: 0,
                max_pages: settings.max_pages,
            },
            http_status: None,
            validators: Validators::default(),
        }))),
        SourceKind::Sql => unreachable!("handled above"),
    }
}

/// Opens a read-only connection to the source's database and starts streaming its SELECT in a task.
async fn open_sql(config: &SourceConfig) -> Result<Pager, PullError> {
    let name = config.database_url_env.clone().unwrap_or_default();
    let url = std::env::var(&name).map_err(|_| {
        PullError::fatal(format!(
            "the environment variable {name} (database_url_env) is not set"
        ))
    })?;
    // SQLite files open read-only; every backend runs the query in a read-only transaction.
    let url = if url.starts_with("sqlite:") && !url.contains("mode=") {
        format!("{url}{}mode=ro", if url.contains('?') { "&" } else { "?" })
    } else {
        url
    };
    let mut options = sea_orm::ConnectOptions::new(url);
    options
        .max_connections(1)
        .connect_timeout(std::time::Duration::from_secs(10))
        .sqlx_logging(false);
    let connection = sea_orm::Database::connect(options)
        .await
        .map_err(|e| PullError::fatal(database_error(&e)))?;
    let query = config.query.clone().unwrap_or_default();
    let (sender, chunks) = tokio::sync::mpsc::channel(2);
    // Errors before the first row (a refused connection, a bad query) come out of the first chunk.
    tokio::spawn(async move {
        if let Err(e) = stream_sql(&connection, &query, &sender).await {
            let _ = sender.send(Err(e)).await;
        }
    });
    Ok(Pager {
        state: State::Sql { chunks },
        http_status: None,
        validators: Validators::default(),
    })
}

async fn stream_sql(
    connection: &sea_orm::DatabaseConnection,
    query: &str,
    sender: &tokio::sync::mpsc::Sender<Result<Vec<Record>, PullError>>,
) -> Result<(), PullError> {
    use sea_orm::TransactionTrait;
    let backend = connection.get_database_backend();
    let transaction = connection
        .begin()
        .await
        .map_err(|e| PullError::fatal(database_error(&e)))?;
    let read_only = match backend {
        sea_orm::DbBackend::Sqlite => "PRAGMA query_only = ON",
        _ => "SET TRANSACTION READ ONLY",
    };
    transaction
        .execute_unprepared(read_only)
        .await
        .map_err(|e| PullError::fatal(database_error(&e)))?;
    let statement =
        sea_orm::Statement::from_string(backend, query.trim().trim_end_matches(';').to_owned());
    let mut stream = transaction.stream_raw(statement).await.map_err(|e| {
        PullError::fatal(format!("the source query failed: {}", database_error(&e)))
    })?;
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut row = 0;
    while let Some(result) = stream.next().await {
        row += 1;
        let result = result.map_err(|e| {
            PullError::fatal(format!(
                "reading the source table failed at row {row}: {}",
                database_error(&e)
            ))
        })?;
        let value = Value::from_query_result(&result, "").map_err(|e| {
            PullError::fatal(format!("row {row}: unreadable ({})", database_error(&e)))
        })?;
        chunk.push(Record {
            at: format!("row {row}"),
            value,
        });
        if chunk.len() == CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            if sender.send(Ok(full)).await.is_err() {
                return Ok(());
            }
        }
    }
    if !chunk.is_empty() {
        let _ = sender.send(Ok(chunk)).await;
    }
    Ok(())
}
