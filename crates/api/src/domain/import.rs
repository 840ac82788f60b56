//! Import rules: proposing a column mapping from a file's headers (and contents), checking a
//! mapping, and turning one row into contact changes or the list of its problems.

use crate::domain::contact::ContactChanges;
use aura_types::{
    is_import_target, split_list, ChannelConsent, ColumnMapping, ConsentInput, ConsentStatus,
    ContactInput, ContactType, FieldErrors, ImportOptions,
};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Header spellings people use, normalised (lower case, letters and digits only) → target.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "email",
        &[
            "email",
            "emailaddress",
            "mail",
            "emailid",
            "workemail",
            "businessemail",
            "primaryemail",
            "correo",
            "courriel",
        ],
    ),
    (
        "first_name",
        &[
            "firstname",
            "first",
            "givenname",
            "fname",
            "forename",
            "prenom",
            "vorname",
        ],
    ),
    (
        "last_name",
        &[
            "lastname",
            "last",
            "surname",
            "familyname",
            "lname",
            "nom",
            "nachname",
        ],
    ),
    (
        "full_name",
        &[
            "name",
            "fullname",
            "contactname",
            "contact",
            "leadname",
            "customername",
            "clientname",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "phonenumber",
            "mobile",
            "mobilenumber",
            "mobilephone",
            "cell",
            "cellphone",
            "telephone",
            "tel",
            "contactnumber",
            "phoneno",
            "mobileno",
        ],
    ),
    (
        "whatsapp",
        &["whatsapp", "whatsappnumber", "wa", "whatsappno"],
    ),
    (
        "company",
        &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "business",
            "businessname",
            "account",
            "accountname",
            "firm",
        ],
    ),
    (
        "job_title",
        &["jobtitle", "title", "position", "role", "designation"],
    ),
    (
        "website",
        &[
            "website",
            "web",
            "url",
            "site",
            "homepage",
            "companywebsite",
            "domain",
        ],
    ),
    (
        "linkedin_url",
        &[
            "linkedin",
            "linkedinurl",
            "linkedinprofile",
            "linkedinprofileurl",
        ],
    ),
    ("city", &["city", "town", "locality"]),
    (
        "state",
        &["state", "region", "province", "county", "stateprovince"],
    ),
    ("country", &["country", "countrycode", "nation"]),
    ("timezone", &["timezone", "tz", "time zone"]),
    ("tags", &["tags", "tag", "labels", "label", "lists"]),
    ("source", &["source", "leadsource", "origin", "channel"]),
    (
        "contact_type",
        &["type", "contacttype", "leadtype", "category"],
    ),
    (
        "email_consent",
        &[
            "emailconsent",
            "emailoptin",
            "marketingconsent",
            "optin",
            "consent",
        ],
    ),
    ("sms_consent", &["smsconsent", "smsoptin", "textconsent"]),
    ("whatsapp_consent", &["whatsappconsent", "whatsappoptin"]),
    (
        "ai_intent_score",
        &["intentscore", "score", "leadscore", "intent"],
    ),
    ("ai_segment", &["aisegment", "segment"]),
    (
        "ai_notes",
        &["notes", "note", "comments", "aisummary", "ainotes"],
    ),
    ("ai_next_action", &["nextaction", "nextstep", "followup"]),
];

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn looks_like_email(v: &str) -> bool {
    aura_types::EmailAddress::parse(v).is_ok()
}

fn looks_like_phone(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    digits >= 7
        && v.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// A mapping for `headers`: known spellings map to their field; otherwise a column whose
/// sample values are mostly emails (or phone numbers) maps to email (phone) when no header did.
pub fn propose_mapping(headers: &[String], sample: &[Vec<String>]) -> Vec<ColumnMapping> {
    let mut used: Vec<&str> = Vec::new();
    let mut out: Vec<ColumnMapping> = headers
        .iter()
        .enumerate()
        .map(|(column, header)| {
            let n = normalise(header);
            let target = ALIASES
                .iter()
                .find(|(_, names)| names.iter().any(|a| normalise(a) == n))
                .map(|(t, _)| *t)
                .filter(|t| !used.contains(t));
            if let Some(t) = target {
                used.push(t);
            }
            ColumnMapping {
                column,
                header: header.clone(),
                target: target.map(str::to_owned),
            }
        })
        .collect();
    for (target, test) in [
        ("email", looks_like_email as fn(&str) -> bool),
        ("phone", looks_like_phone),
    ] {
        if used.contains(&target) {
            continue;
        }
        let candidate = out.iter_mut().filter(|m| m.target.is_none()).find(|m| {
            let values: Vec<&str> = sample
                .iter()
                .filter_map(|r| r.get(m.column).map(|v| v.trim()))
                .filter(|v| !v.is_empty())
                .collect();
            !values.is_empty() && values.iter().filter(|v| test(v)).count() * 10 >= values.len() * 8
        });
        if let Some(m) = candidate {
            m.target = Some(target.to_owned());
            used.push(target);
        }
    }
    out
}

/// Whether a mapping can be imported: known targets, each field once, and an email or phone.
pub fn check_mapping(mapping: &[ColumnMapping], columns: usize) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, m) in mapping.iter().enumerate() {
        if m.column >= columns {
            e.add(
                &format!("mapping[{i}].column"),
                "is not a column of the file",
            );
        }
        let Some(t) = m.target.as_deref() else {
            continue;
        };
        if !is_import_target(t) {
            e.add(
                &format!("mapping[{i}].target"),
                format!("`{t}` is not a contact field"),
            );
        } else if let Some(prev) = seen.insert(t, i) {
            e.add(
                &format!("mapping[{i}].target"),
                format!(
                    "`{t}` is already mapped from column {}",
                    mapping[prev].header
                ),
            );
        }
    }
    if !seen.contains_key("email") && !seen.contains_key("phone") {
        e.add(
            "mapping",
            "map a column to Email or Phone: every contact needs one of them",
        );
    }
    e.finish(|| Some(()))
}

fn parse_consent_cell(v: &str) -> Result<ConsentStatus, String> {
    match v.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "granted" | "opt-in" | "optin" | "opted in" | "subscribed" => {
            Ok(ConsentStatus::Granted)
        }
        "no" | "n" | "false" | "0" | "denied" | "opt-out" | "optout" | "opted out"
        | "unsubscribed" => Ok(ConsentStatus::Denied),
        "revoked" => Ok(ConsentStatus::Revoked),
        "unknown" => Ok(ConsentStatus::Unknown),
        other => Err(format!("consent `{other}` is not yes or no")),
    }
}

/// Parses one contact to import, from a CSV row or an integration's JSON: the options' tags are
/// added, its source defaults to the options' (else `default_source`), and a contact without an
/// email or phone number is refused. Problems are sentences for the report.
pub fn import_changes(
    mut input: ContactInput,
    options: &ImportOptions,
    default_source: &str,
    region: Option<&str>,
    now: OffsetDateTime,
) -> Result<ContactChanges, Vec<String>> {
    if !options.tags.is_empty() {
        let mut tags = input.tags.take().unwrap_or_default();
        tags.extend(options.tags.iter().cloned());
        input.tags = Some(tags);
    }
    if input.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
        input.source = Some(
            options
                .source
                .clone()
                .unwrap_or_else(|| default_source.to_owned()),
        );
    }
    let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    let mut problems = Vec::new();
    if !given(&input.email) && !given(&input.phone) {
        problems.push("no email or phone number".to_owned());
    }
    match ContactChanges::parse(input, region, now) {
        Ok(c) if problems.is_empty() => Ok(c),
        Ok(_) => Err(problems),
        Err(fields) => {
            problems.extend(
                fields
                    .0
                    .into_iter()
                    .map(|(f, m)| format!("{}: {m}", f.replace('_', " "))),
            );
            Err(problems)
        }
    }
}

/// Turns rows into contact changes under one mapping and set of options.
pub struct RowParser<'a> {
    pub mapping: &'a [ColumnMapping],
    pub options: &'a ImportOptions,
    /// The organization's country, for local phone numbers.
    pub region: Option<&'a str>,
    /// "import: <file>", the default source and consent source.
    pub default_source: String,
    pub now: OffsetDateTime,
}

impl RowParser<'_> {
    /// The values of one row by target, in mapping order (empty cells left out).
    pub fn values<'r>(&self, cells: &'r [&'r str]) -> Vec<(&str, &'r str)> {
        self.mapping
            .iter()
            .filter_map(|m| {
                let t = m.target.as_deref()?;
                let v = cells.get(m.column)?.trim();
                (!v.is_empty()).then_some((t, v))
            })
            .collect()
    }

    /// Contact changes for a row, or what is wrong with it.
    pub fn parse(&self, cells: &[&str]) -> Result<ContactChanges, Vec<String>> {
        let mut input = ContactInput::default();
        let mut problems = Vec::new();
        let mut consent = ConsentInput::default();
        let mut custom = serde_json::Map::new();
        let mut tags: Vec<String> = Vec::new();
        let consent_source = self
            .options
            .consent_source
            .clone()
            .unwrap_or_else(|| self.default_source.clone());
        for (target, v) in self.values(cells) {
            let v = v.to_owned();
            let mut given = |status: Result<ConsentStatus, String>| match status {
                Ok(status) => Some(ChannelConsent {
                    status,
                    source: Some(consent_source.clone()),
                    at: None,
                    evidence: None,
                }),
                Err(e) => {
                    problems.push(e);
                    None
                }
            };
            match target {
                "first_name" => input.first_name = Some(v),
                "last_name" => input.last_name = Some(v),
                "full_name" => {
                    let mut words = v.split_whitespace();
                    input.first_name = input.first_name.take().or(words.next().map(str::to_owned));
                    let rest = words.collect::<Vec<_>>().join(" ");
                    if !rest.is_empty() {
                        input.last_name = input.last_name.take().or(Some(rest));
                    }
                }
                "email" => input.email = Some(v),
                "phone" => input.phone = Some(v),
                "whatsapp" => input.whatsapp = Some(v),
                "company" => input.company = Some(v),
                "job_title" => input.job_title = Some(v),
                "website" => input.website = Some(v),
                "linkedin_url" => input.linkedin_url = Some(v),
                "city" => input.city = Some(v),
                "state" => input.state = Some(v),
                "country" => input.country = Some(v),
                "timezone" => input.timezone = Some(v),
                "tags" => tags.extend(split_list(&v).into_iter().map(str::to_owned)),
                "source" => input.source = Some(v),
                "contact_type" => {
                    let key = v.trim().to_lowercase().replace([' ', '-'], "_");
                    match ContactType::parse(&key) {
                        Some(t) => input.contact_type = Some(t),
                        None => problems.push(format!("contact type `{v}` is not one of lead, customer, past customer, partner, other")),
                    }
                }
                "email_consent" => consent.email = given(parse_consent_cell(&v)),
                "sms_consent" => consent.sms = given(parse_consent_cell(&v)),
                "whatsapp_consent" => consent.whatsapp = given(parse_consent_cell(&v)),
                "ai_intent_score" => match v.trim().parse::<f64>() {
                    Ok(n) if (0.0..=100.0).contains(&n) => {
                        input.ai_intent_score = Some(Some(n.round() as i16))
                    }
                    _ => problems.push(format!("intent score `{v}` is not a number from 0 to 100")),
                },
                "ai_segment" => input.ai_segment = Some(v),
                "ai_notes" => input.ai_notes = Some(v),
                "ai_next_action" => input.ai_next_action = Some(v),
                other => {
                    if let Some(key) = other.strip_prefix("custom.") {
                        custom.insert(key.to_owned(), serde_json::Value::String(v));
                    }
                }
            }
        }
        if !tags.is_empty() {
            input.tags = Some(tags);
        }
        if !custom.is_empty() {
            input.custom = Some(custom);
        }
        if consent != ConsentInput::default() {
            input.consent = Some(consent);
        }
        let result = import_changes(
            input,
            self.options,
            &self.default_source,
            self.region,
            self.now,
        );
        match result {
            Ok(c) if problems.is_empty() => Ok(c),
            Ok(_) => Err(problems),
            Err(more) => {
                problems.extend(more);
                Err(problems)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn common_spellings_are_recognised() {
        let m = propose_mapping(
            &headers(&[
                "E-mail",
                "First Name",
                "Phone Number",
                "Company Name",
                "Tags",
                "Country",
                "Budget",
            ]),
            &[],
        );
        let targets: Vec<_> = m.iter().map(|m| m.target.as_deref()).collect();
        assert_eq!(
            targets,
            vec![
                Some("email"),
                Some("first_name"),
                Some("phone"),
                Some("company"),
                Some("tags"),
                Some("country"),
                None
            ]
        );
        let m = propose_mapping(&headers(&["Email Address", "Mobile"]), &[]);
        assert_eq!(m[1].target.as_deref(), Some("phone"));
    }

    #[test]
    fn contents_reveal_unlabelled_email_columns() {
        let sample = vec![
            vec!["Ada".into(), "ada@example.com".into()],
            vec!["Bob".into(), "bob@example.org".into()],
        ];
        let m = propose_mapping(&headers(&["Who", "Correo electrónico"]), &sample);
        assert_eq!(m[1].target.as_deref(), Some("email"));
        assert!(check_mapping(&propose_mapping(&headers(&["Who", "What"]), &[]), 2).is_err());
    }

    #[test]
    fn rows_become_changes_or_problems() {
        let mapping = propose_mapping(
            &headers(&["Name", "Email", "Phone", "Opt-in", "Score"]),
            &[],
        );
        let options = ImportOptions {
            tags: vec!["Imported".into()],
            ..Default::default()
        };
        let p = RowParser {
            mapping: &mapping,
            options: &options,
            region: Some("US"),
            default_source: "import: a.csv".into(),
            now: OffsetDateTime::now_utc(),
        };
        let c = p
            .parse(&[
                "Ada King Lovelace",
                "ADA@Example.com",
                "(415) 452-2671",
                "yes",
                "80",
            ])
            .unwrap();
        assert_eq!(c.first_name, Some(Some("Ada".into())));
        assert_eq!(c.last_name, Some(Some("King Lovelace".into())));
        assert_eq!(c.phone, Some(Some("+14154522671".into())));
        assert_eq!(c.tags, Some(vec!["imported".into()]));
        assert_eq!(
            c.consent[0].as_ref().map(|c| c.status),
            Some(ConsentStatus::Granted)
        );
        let bad = p
            .parse(&["X", "not-an-email", "12", "perhaps", "300"])
            .unwrap_err();
        assert_eq!(bad.len(), 4, "{bad:?}");
        assert!(p
            .parse(&["Only a name", "", "", "", ""])
            .unwrap_err()
            .contains(&"no email or phone number".to_owned()));
    }
}
