//! Contact imports: CSV uploads with a column mapping, run as a background job, and the JSON
//! bulk import for integrations.

use crate::contact::ContactInput;
use crate::ids::{ContactId, ImportId};
use crate::string_enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum!(
    ImportStatus as "import_status" {
        /// Uploaded and analysed; waiting for a mapping and a start.
        Uploaded = "uploaded" / "Ready to map",
        Queued = "queued" / "Queued",
        Running = "running" / "Importing",
        Completed = "completed" / "Completed",
        Failed = "failed" / "Failed",
    }
);

string_enum!(
    /// What to do with a row whose email or phone belongs to an existing contact.
    #[derive(Default)]
    DuplicateStrategy as "duplicate_strategy" {
        /// Leave the existing contact alone.
        #[default]
        Skip = "skip" / "Skip",
        /// Fill only the existing contact's empty fields (tags are added).
        FillEmpty = "fill_empty" / "Fill empty fields",
        /// Overwrite the existing contact's fields with the row's non-empty values.
        Overwrite = "overwrite" / "Overwrite",
    }
);

string_enum!(
    RowOutcome as "row_outcome" {
        Created = "created" / "Created",
        Updated = "updated" / "Updated",
        Skipped = "skipped" / "Skipped",
        Invalid = "invalid" / "Invalid",
    }
);

/// Where a column's values go: a contact field key from [`IMPORT_TARGETS`], `custom.<name>` for a
/// custom field, or nothing (the column is ignored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ColumnMapping {
    /// Zero-based column index in the file.
    pub column: usize,
    pub header: String,
    pub target: Option<String>,
}

/// Contact fields a column can be mapped to: (key, label).
pub const IMPORT_TARGETS: &[(&str, &str)] = &[
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("full_name", "Full name (split into first/last)"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("whatsapp", "WhatsApp number"),
    ("company", "Company"),
    ("job_title", "Job title"),
    ("website", "Website"),
    ("linkedin_url", "LinkedIn URL"),
    ("city", "City"),
    ("state", "State / region"),
    ("country", "Country"),
    ("timezone", "Time zone"),
    ("tags", "Tags (comma-separated)"),
    ("source", "Source"),
    ("contact_type", "Contact type"),
    ("email_consent", "Email consent (yes/no)"),
    ("sms_consent", "SMS consent (yes/no)"),
    ("whatsapp_consent", "WhatsApp consent (yes/no)"),
    ("ai_intent_score", "Intent score (0–100)"),
    ("ai_segment", "AI segment"),
    ("ai_notes", "AI notes"),
    ("ai_next_action", "Next action"),
];

/// Whether `target` names something a column can be mapped to.
pub fn is_import_target(target: &str) -> bool {
    IMPORT_TARGETS.iter().any(|(k, _)| *k == target)
        || target
            .strip_prefix("custom.")
            .is_some_and(|k| !k.trim().is_empty() && k.len() <= 100)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImportOptions {
    #[serde(default)]
    pub duplicate_strategy: DuplicateStrategy,
    /// Added to every imported (created or updated) contact.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Recorded as the source of consent given in consent columns; defaults to the file name.
    #[serde(default)]
    pub consent_source: Option<String>,
    /// The contacts' `source` when the row has none; defaults to "import: <file name>".
    #[serde(default)]
    pub source: Option<String>,
}

/// Rows counted so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImportProgress {
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub invalid: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Import {
    pub id: ImportId,
    pub filename: String,
    pub status: ImportStatus,
    /// `,`, `;` or a tab.
    pub delimiter: String,
    /// `utf-8` or `latin-1`.
    pub encoding: String,
    pub headers: Vec<String>,
    /// Data rows in the file (not counting the header and empty lines).
    pub total_rows: i64,
    pub mapping: Vec<ColumnMapping>,
    pub options: ImportOptions,
    pub progress: ImportProgress,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MappingRequest {
    pub mapping: Vec<ColumnMapping>,
}

/// One row as it would be imported, with what is wrong with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PreviewRow {
    /// Line number in the file, counting the header as 1.
    pub row_number: i64,
    /// Target → value, in mapping order.
    pub values: Vec<MappedValue>,
    pub problems: Vec<String>,
}

/// A cell of a previewed row and the field it goes to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MappedValue {
    /// A contact field key, or `custom.<name>`.
    pub target: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImportPreview {
    pub rows: Vec<PreviewRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StartImportRequest {
    pub mapping: Vec<ColumnMapping>,
    #[serde(default)]
    pub options: ImportOptions,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReportRow {
    pub row_number: i64,
    pub outcome: RowOutcome,
    pub reason: Option<String>,
    pub contact_id: Option<ContactId>,
}

/// Contacts sent by an integration, imported at once with the CSV import's rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct JsonImportRequest {
    pub contacts: Vec<ContactInput>,
    #[serde(default)]
    pub options: ImportOptions,
}

/// The counts, and one report row per contact sent (row numbers start at 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct JsonImportResult {
    pub progress: ImportProgress,
    pub rows: Vec<ReportRow>,
}
