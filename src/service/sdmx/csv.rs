//! SDMX-CSV: one line per observation — the dataflow first (1.0: `DATAFLOW` = `CHILDHUB:HEA-03(1.0)`;
//! 2.0: `STRUCTURE` = `dataflow`, `STRUCTURE_ID`, `ACTION`), the key's dimensions, the time period, the
//! value (empty where suppressed) and its attributes.

use super::{AGENCY, KEY_DIMENSIONS, SdmxQuery, VERSION, read_records};
use crate::error::{AppError, AppResult};
use crate::service::observations::ReadScope;
use sea_orm::ConnectionTrait;

/// The two versions of SDMX-CSV: 1.0 (SDMX 2.1's) and 2.0 (SDMX 3.0's, which tools read too).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CsvVersion {
    V1,
    V2,
}

/// The SDMX-CSV data message of `query`, at most `limit` observations.
pub async fn data_message(
    db: &impl ConnectionTrait,
    scope: &ReadScope,
    query: &SdmxQuery,
    limit: usize,
    version: CsvVersion,
) -> AppResult<String> {
    let records = read_records(db, scope, query, limit).await?;
    let unit = scope
        .by_code(&query.indicator)
        .map(|i| i.unit.as_str())
        .unwrap_or_default();
    let flow = format!("{AGENCY}:{}({VERSION})", query.indicator);
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| AppError::Internal(format!("SDMX-CSV: {e}"));
    let lead: &[&str] = match version {
        CsvVersion::V1 => &[flow.as_str()],
        CsvVersion::V2 => &["dataflow", flow.as_str(), "I"],
    };
    let mut header = match version {
        CsvVersion::V1 => vec!["DATAFLOW"],
        CsvVersion::V2 => vec!["STRUCTURE", "STRUCTURE_ID", "ACTION"],
    };
    header.extend(KEY_DIMENSIONS);
    header.extend(["TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "UNIT_MEASURE"]);
    out.write_record(&header).map_err(failed)?;
    for r in &records {
        let area = scope
            .reference
            .region_by_id(r.model.region_id)
            .map(|g| g.code.as_str())
            .unwrap_or_default();
        let value = r.value().map(|v| v.to_string()).unwrap_or_default();
        let year = r.model.year.to_string();
        let mut fields: Vec<&str> = lead.to_vec();
        fields.extend([
            area,
            &r.model.sex,
            &r.model.age_group,
            &r.model.residence,
            &year,
            &value,
            if r.suppressed { "C" } else { "A" },
            unit,
        ]);
        out.write_record(&fields).map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("SDMX-CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("SDMX-CSV: {e}")))
}
