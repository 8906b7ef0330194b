//! The tables of childhub as sea-orm entities, and the vocabulary their columns are typed with. No GraphQL
//! object or HTTP types live here: the table's shape and the API's shape change for different reasons
//! (the vocabulary enums are the one shared part; see `vocabulary`).

pub mod audit_log;
pub mod department;
pub mod dimension_code;
pub mod disclosure_release;
pub mod domain;
pub mod event;
pub mod indicator;
pub mod job_cursor;
pub mod job_lease;
pub mod observation;
pub mod region;
pub mod signin_flow;
pub mod source;
pub mod source_run;
pub mod submission;
pub mod target;
pub mod tracked_status;
pub mod tracked_warning;
pub mod vocabulary;
pub mod web_session;
pub mod webhook;
pub mod webhook_delivery;
