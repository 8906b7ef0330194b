//! The design's vocabulary as Rust types: units, sensitivities, target kinds and scopes, region levels and
//! residence, statuses, department kinds and the disaggregation codes. The database stores each as a short
//! string; these types are the columns' types (sea-orm active enums), so a stored value that is not one of
//! the codes is an error where the row is read, in one place, never a guess. With the `graphql` feature
//! they are the API's enums too (the one place outside `graphql/` that derives a GraphQL trait: the
//! vocabulary is shared by the table and the API on purpose).

use sea_orm::entity::prelude::*;
use std::fmt;

/// Declares a string-coded enum of the vocabulary: the sea-orm active enum (stored as its code), the
/// GraphQL enum (feature `graphql`), `as_str`, `parse`, `expected`, `Display`, and serde as the code.
macro_rules! coded {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
        #[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $ty {
            $($(#[$vmeta])* #[sea_orm(string_value = $code)] $variant),+
        }

        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The code stored in the database and used in CSV files.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $code),+ }
            }

            /// Reads a stored or user-given code; `None` when it is not one of [`Self::ALL`].
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($ty::$variant),)+ _ => None }
            }

            /// The valid codes, for error messages: `a, b, c`.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = String::deserialize(deserializer)?;
                Self::parse(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!("{code:?} is not one of {}", Self::expected()))
                })
            }
        }
    };
}

coded!(
    /// What an indicator's values measure.
    Unit {
        /// A share of a whole, 0 – 100 (coverage, prevalence, net rates).
        Percent => "percent",
        /// A ratio in percent that may pass 100, 0 – 200: gross enrolment ratios count pupils older or
        /// younger than the age group.
        RatioPercent => "ratio_percent",
        /// Per thousand, 0 – 1000 (mortality rates per live birth).
        PerMille => "per_mille",
        /// Per hundred thousand, 0 – 100000.
        Per100000 => "per_100000",
        /// Per thousand children, 0 – 1000.
        Per1000Children => "per_1000_children",
        /// Per thousand population, 0 – 1000.
        Per1000Population => "per_1000_population",
        /// A whole number of people, places or events, 0 or more.
        Count => "count",
        /// 1 when done, 0 when not.
        Boolean => "boolean",
    }
);

impl Unit {
    /// The inclusive range a value of this unit can take.
    pub fn range(self) -> (f64, f64) {
        match self {
            Unit::Percent => (0.0, 100.0),
            Unit::RatioPercent => (0.0, 200.0),
            Unit::PerMille => (0.0, 1000.0),
            Unit::Per100000 => (0.0, 100_000.0),
            Unit::Per1000Children | Unit::Per1000Population => (0.0, 1000.0),
            Unit::Count => (0.0, 1e12),
            Unit::Boolean => (0.0, 1.0),
        }
    }

    /// Whether values must be whole numbers.
    pub fn is_integral(self) -> bool {
        matches!(self, Unit::Count | Unit::Boolean)
    }

    /// Whether values of disjoint parts add up to the total (sex, residence, regions).
    pub fn is_additive(self) -> bool {
        self == Unit::Count
    }

    /// What numerator / denominator is multiplied by to give a value of this rate unit (‰ → 1000);
    /// none for counts and yes/no values, which are not ratios.
    pub fn rate_scale(self) -> Option<f64> {
        match self {
            Unit::Percent | Unit::RatioPercent => Some(100.0),
            Unit::PerMille | Unit::Per1000Children | Unit::Per1000Population => Some(1000.0),
            Unit::Per100000 => Some(100_000.0),
            Unit::Count | Unit::Boolean => None,
        }
    }

    /// How many decimals values of this unit are shown with unless the indicator says otherwise.
    pub fn default_decimals(self) -> i32 {
        match self {
            Unit::Count | Unit::Boolean => 0,
            Unit::Percent | Unit::RatioPercent | Unit::Per100000 => 1,
            Unit::PerMille | Unit::Per1000Children | Unit::Per1000Population => 2,
        }
    }

    /// Short symbol for tables and charts.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Percent | Unit::RatioPercent => "%",
            Unit::PerMille => "‰",
            Unit::Per100000 => "/100k",
            Unit::Per1000Children => "/1000 children",
            Unit::Per1000Population => "/1000 pop.",
            Unit::Count => "",
            Unit::Boolean => "",
        }
    }

    /// The symbol, or for units without one what they are (`count`, `yes/no`): for messages.
    pub fn symbol_or_name(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Boolean => "yes/no",
            other => other.symbol(),
        }
    }
}

coded!(
    /// Who may read an indicator's values (see the authorization policy).
    Sensitivity {
        /// Everyone, anonymous callers included when anonymous read is on.
        Public => "public",
        /// Every authenticated department.
        Internal => "internal",
        /// The owner department and coordinators in full; others with small counts suppressed.
        Restricted => "restricted",
    }
);

coded!(
    /// What the plan wants of an indicator.
    TargetKind {
        /// The value must reach `value` or more (≥), e.g. coverage ≥ 97 %.
        AtLeast => "at_least",
        /// The value must stay at `value` or less (≤), e.g. a mortality rate ≤ 5 ‰.
        AtMost => "at_most",
        /// The value must fall by `value` percent from the baseline: target = baseline × (1 − value/100).
        ReduceByPercent => "reduce_by_percent",
        /// The value must rise (direction only, no number; 持续提高).
        TrendUp => "trend_up",
        /// The value must fall (direction only; 持续下降).
        TrendDown => "trend_down",
        /// The value must not rise (direction only; 得到控制).
        TrendNotUp => "trend_not_up",
        /// A yes/no event, reached when the value is 1 (or `value`) or more.
        Milestone => "milestone",
    }
);

impl TargetKind {
    /// +1 when higher values are better, −1 when lower values are better.
    pub fn direction(self) -> i8 {
        match self {
            TargetKind::AtLeast | TargetKind::TrendUp | TargetKind::Milestone => 1,
            TargetKind::AtMost
            | TargetKind::ReduceByPercent
            | TargetKind::TrendDown
            | TargetKind::TrendNotUp => -1,
        }
    }

    /// Whether the kind carries a number (`reduce_by_percent` carries the percentage to cut).
    pub fn has_value(self) -> bool {
        matches!(
            self,
            TargetKind::AtLeast
                | TargetKind::AtMost
                | TargetKind::ReduceByPercent
                | TargetKind::Milestone
        )
    }
}

coded!(
    /// Which series a target applies to.
    TargetScope {
        /// The city total.
        City => "city",
        /// Every township must meet the target on its own.
        EachTownship => "each_township",
        /// The city's urban series.
        Urban => "urban",
        /// The city's rural series.
        Rural => "rural",
    }
);

coded!(
    /// Level of a node in the administrative tree.
    RegionLevel {
        /// The city (市).
        City => "city",
        /// A township or street (乡镇街).
        Township => "township",
        /// A village or community (村/社区).
        Village => "village",
    }
);

impl RegionLevel {
    /// 0 for the city, 1 for townships, 2 for villages: a parent ranks lower than its children.
    pub fn rank(self) -> u8 {
        match self {
            RegionLevel::City => 0,
            RegionLevel::Township => 1,
            RegionLevel::Village => 2,
        }
    }
}

coded!(
    /// Whether a region (or a series) is urban, rural, or both.
    Residence {
        /// 合计: both (the city itself, or a total series).
        Total => "_T",
        /// 城镇
        Urban => "U",
        /// 农村
        Rural => "R",
    }
);

coded!(
    /// Lifecycle of an observation or a submission.
    Status {
        /// Sent, waiting for a coordinator's decision; only the owner department and coordinators see it.
        Pending => "pending",
        /// Approved by a coordinator: published and locked.
        Approved => "approved",
        /// Rejected by a coordinator, with a reason; never published.
        Rejected => "rejected",
    }
);

coded!(
    /// Whether a department owns indicators or coordinates the monitoring.
    DepartmentKind {
        /// Owns indicators and submits their values (卫生健康局, 教育局, …).
        Owner => "owner",
        /// Coordinates the monitoring: reads everything and approves (统计局, 妇儿工委办).
        Coordinator => "coordinator",
    }
);

coded!(
    /// A disaggregation dimension.
    Dimension {
        /// Sex (性别): `_T`, `M`, `F`.
        Sex => "sex",
        /// Age group (年龄组): `_T` or e.g. `Y0T4`.
        Age => "age",
        /// Residence (城乡): `_T`, `U` urban, `R` rural.
        Residence => "residence",
    }
);

coded!(
    /// What happened: the kinds of events the hub tells other systems about.
    EventKind {
        /// A department sent a batch of values (pending).
        SubmissionCreated => "submission.created",
        /// A coordinator approved a submission.
        SubmissionApproved => "submission.approved",
        /// A coordinator rejected a submission.
        SubmissionRejected => "submission.rejected",
        /// Approved values of one indicator and year became the published ones.
        ObservationsPublished => "observations.published",
        /// A target's progress status changed.
        TargetStatusChanged => "target.status_changed",
        /// An early warning was raised.
        WarningRaised => "warning.raised",
        /// An early warning no longer holds.
        WarningCleared => "warning.cleared",
        /// The catalogue changed: a department, indicator, target or region.
        CatalogueChanged => "catalogue.changed",
        /// A source connector failed to pull.
        SourceFailed => "source.failed",
    }
);

coded!(
    /// Whether a webhook endpoint receives deliveries.
    WebhookStatus {
        /// Deliveries are sent.
        Active => "active",
        /// An admin paused it: deliveries wait, none is dropped.
        Paused => "paused",
        /// Deliveries kept failing beyond the retry schedule; they wait and are retried slowly.
        Failing => "failing",
    }
);

coded!(
    /// Where one event's delivery to one endpoint stands.
    DeliveryStatus {
        /// Not answered with a 2xx yet.
        Pending => "pending",
        /// Answered with a 2xx.
        Delivered => "delivered",
        /// Not sent: the endpoint's department may no longer hear of the event (the policy changed).
        Skipped => "skipped",
    }
);

coded!(
    /// What kind of system a source is.
    SourceKind {
        /// A REST service answering JSON (paged by next links or cursors).
        HttpJson => "http_json",
        /// A CSV file on an HTTP server (a nightly export).
        HttpCsv => "http_csv",
        /// A workbook (`.xlsx`, `.xls` or `.ods`) on an HTTP server, its first sheet a table with a header row.
        HttpXlsx => "http_xlsx",
        /// An SDMX-JSON data message (another statistics system, or another hub).
        SdmxJson => "sdmx_json",
        /// Another GraphQL service.
        Graphql => "graphql",
        /// A table in the department's own database (PostgreSQL, MySQL or SQLite), read-only.
        Sql => "sql",
    }
);

coded!(
    /// Whether a source is pulled on its schedule.
    SourceStatus {
        /// Pulled on its schedule.
        Active => "active",
        /// Not pulled until resumed (a manual run still works).
        Paused => "paused",
    }
);

coded!(
    /// How a pull went.
    RunStatus {
        /// Still pulling (or the process stopped mid-run: see `Interrupted`).
        Running => "running",
        /// Pulled, mapped and checked; valid rows landed (perhaps none changed).
        Succeeded => "succeeded",
        /// The source answered "not modified": nothing fetched, nothing written.
        Unchanged => "unchanged",
        /// Fetching or landing failed; nothing was written.
        Failed => "failed",
        /// The process running it stopped; nothing was written.
        Interrupted => "interrupted",
    }
);

/// The explicit total code of every dimension (never NULL).
pub const TOTAL: &str = "_T";

/// One entry of a dimension's code list: `(code, name_zh, name_en)`.
pub type CodeEntry = (&'static str, &'static str, &'static str);

/// Sex codes (SDMX `SEX`).
pub const SEX_CODES: &[CodeEntry] = &[
    ("_T", "合计", "Total"),
    ("M", "男", "Male"),
    ("F", "女", "Female"),
];

/// Residence codes (SDMX `URBANISATION`).
pub const RESIDENCE_CODES: &[CodeEntry] = &[
    ("_T", "合计", "Total"),
    ("U", "城镇", "Urban"),
    ("R", "农村", "Rural"),
];

/// Age-group codes (SDMX `AGE`), the groups the plan speaks of.
pub const AGE_CODES: &[CodeEntry] = &[
    ("_T", "合计", "Total"),
    ("Y0", "1岁以下", "Under 1"),
    ("Y0T2", "0—2岁", "0-2 years"),
    ("Y0T4", "0—4岁", "0-4 years"),
    ("Y0T5", "0—5岁", "0-5 years"),
    ("Y0T6", "0—6岁", "0-6 years"),
    ("Y3T5", "3—5岁", "3-5 years"),
    ("Y6T11", "6—11岁", "6-11 years"),
    ("Y12T14", "12—14岁", "12-14 years"),
    ("Y15T17", "15—17岁", "15-17 years"),
    ("Y0T17", "0—17岁", "0-17 years"),
];

/// Age groups that split `_T` into disjoint parts, so that counts add up across them.
pub const AGE_PARTITION: &[&str] = &["Y0T5", "Y6T11", "Y12T14", "Y15T17"];

/// The code list of a dimension.
pub fn codes(dimension: Dimension) -> &'static [CodeEntry] {
    match dimension {
        Dimension::Sex => SEX_CODES,
        Dimension::Age => AGE_CODES,
        Dimension::Residence => RESIDENCE_CODES,
    }
}

/// Whether `code` is in the dimension's code list.
pub fn is_code(dimension: Dimension, code: &str) -> bool {
    codes(dimension).iter().any(|(c, _, _)| *c == code)
}
