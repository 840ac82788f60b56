//! Compiles segment rules (and contact filters, which become rules) into a SQL condition on the
//! `contacts c` row. Every value is a bind parameter; only column names chosen by `match` on closed
//! enums are written into the SQL text.

use aura_types::{search_terms, DateField, DateOp, IsOp, Rule, ScoreOp, TagOp, TextField, TextOp};
use sqlx::{Postgres, QueryBuilder};
use time::OffsetDateTime;

fn text_column(field: TextField) -> &'static str {
    match field {
        TextField::FirstName => "c.first_name",
        TextField::LastName => "c.last_name",
        TextField::Email => "c.email",
        TextField::Phone => "c.phone",
        TextField::Whatsapp => "c.whatsapp",
        TextField::Company => "c.company",
        TextField::JobTitle => "c.job_title",
        TextField::Website => "c.website",
        TextField::City => "c.city",
        TextField::State => "c.state",
        TextField::Country => "c.country",
        TextField::Timezone => "c.timezone",
        TextField::Source => "c.source",
        TextField::AiSegment => "c.ai_segment",
    }
}

fn date_column(field: DateField) -> &'static str {
    match field {
        DateField::CreatedAt => "c.created_at",
        DateField::UpdatedAt => "c.updated_at",
        DateField::LastContactedAt => "c.last_contacted_at",
        DateField::LastRepliedAt => "c.last_replied_at",
    }
}

/// Escapes LIKE's wildcards in a value that is then bound as a parameter.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Pushes `lower(coalesce(<expr>, ''))` compared by `op` with `value`. `push_expr` writes the
/// expression (it may bind parameters of its own, like a custom field's key).
fn push_text(
    qb: &mut QueryBuilder<'_, Postgres>,
    op: TextOp,
    value: &str,
    push_expr: impl Fn(&mut QueryBuilder<'_, Postgres>),
) {
    qb.push("(lower(coalesce(");
    push_expr(qb);
    qb.push(", ''))");
    let v = value.to_lowercase();
    match op {
        TextOp::Equals => qb.push(" = ").push_bind(v),
        TextOp::NotEquals => qb.push(" <> ").push_bind(v),
        TextOp::Contains => qb
            .push(" like '%' || ")
            .push_bind(like_escape(&v))
            .push(" || '%'"),
        TextOp::NotContains => qb
            .push(" not like '%' || ")
            .push_bind(like_escape(&v))
            .push(" || '%'"),
        TextOp::StartsWith => qb.push(" like ").push_bind(like_escape(&v)).push(" || '%'"),
        TextOp::IsEmpty => qb.push(" = ''"),
        TextOp::IsNotEmpty => qb.push(" <> ''"),
    };
    qb.push(")");
}

/// Pushes the SQL condition for `rule`. `now` is bound, not read from the database clock, so the
/// same rules mean the same thing in memory and in SQL.
pub fn push_rule(qb: &mut QueryBuilder<'_, Postgres>, rule: &Rule, now: OffsetDateTime) {
    match rule {
        Rule::All { rules } | Rule::Any { rules } if rules.is_empty() => {
            qb.push(if matches!(rule, Rule::All { .. }) {
                "true"
            } else {
                "false"
            });
        }
        Rule::All { rules } | Rule::Any { rules } => {
            let joiner = if matches!(rule, Rule::All { .. }) {
                " and "
            } else {
                " or "
            };
            qb.push("(");
            for (i, r) in rules.iter().enumerate() {
                if i > 0 {
                    qb.push(joiner);
                }
                push_rule(qb, r, now);
            }
            qb.push(")");
        }
        Rule::Text { field, op, value } => {
            let column = text_column(*field);
            push_text(qb, *op, value, |qb| {
                qb.push(column);
            });
        }
        Rule::Custom { key, op, value } => {
            let key = key.clone();
            push_text(qb, *op, value, move |qb| {
                qb.push("c.custom ->> ").push_bind(key.clone());
            });
        }
        Rule::Tag { op, tag } => {
            if *op == TagOp::HasNot {
                qb.push("not ");
            }
            qb.push("(c.tags @> array[")
                .push_bind(tag.clone())
                .push("]::text[])");
        }
        Rule::Status { op, value } => {
            qb.push("c.status ")
                .push(if *op == IsOp::Is { "=" } else { "<>" })
                .push(" ")
                .push_bind(*value);
        }
        Rule::ContactType { op, value } => {
            qb.push("c.contact_type ")
                .push(if *op == IsOp::Is { "=" } else { "<>" })
                .push(" ")
                .push_bind(*value);
        }
        Rule::Consent { channel, op, value } => {
            qb.push("coalesce(c.consent -> ")
                .push_bind(channel.as_str())
                .push(" ->> 'status', 'unknown') ")
                .push(if *op == IsOp::Is { "=" } else { "<>" })
                .push(" ")
                .push_bind(value.as_str());
        }
        Rule::Date {
            field,
            op,
            at,
            days,
        } => {
            let column = date_column(*field);
            let cutoff = days.map(|d| now - time::Duration::days(i64::from(d)));
            let (cmp, bound) = match op {
                DateOp::Before => ("<", *at),
                DateOp::After => (">", *at),
                DateOp::WithinLastDays => (">=", cutoff),
                DateOp::MoreThanDaysAgo => ("<", cutoff),
                DateOp::IsEmpty => {
                    qb.push(column).push(" is null");
                    return;
                }
                DateOp::IsNotEmpty => {
                    qb.push(column).push(" is not null");
                    return;
                }
            };
            match bound {
                // Rules are checked before they are compiled; a missing bound matches no one.
                None => qb.push("false"),
                Some(b) => qb
                    .push("coalesce(")
                    .push(column)
                    .push(" ")
                    .push(cmp)
                    .push(" ")
                    .push_bind(b)
                    .push(", false)"),
            };
        }
        Rule::Score { op, value } => {
            qb.push("coalesce(c.ai_intent_score ")
                .push(if *op == ScoreOp::AtLeast { ">=" } else { "<=" })
                .push(" ")
                .push_bind(*value)
                .push(", false)");
        }
        Rule::Owner { owner_id: Some(id) } => {
            qb.push("coalesce(c.owner_id = ")
                .push_bind(*id)
                .push(", false)");
        }
        Rule::Owner { owner_id: None } => {
            qb.push("c.owner_id is null");
        }
        Rule::InSegment { segment_id } => {
            qb.push("exists (select 1 from segment_members m where m.org_id = c.org_id and m.contact_id = c.id and m.segment_id = ")
                .push_bind(*segment_id)
                .push(")");
        }
        Rule::Search { q } => {
            let terms = search_terms(q);
            if terms.is_empty() {
                qb.push("true");
                return;
            }
            qb.push("(");
            for (i, t) in terms.iter().enumerate() {
                if i > 0 {
                    qb.push(" and ");
                }
                qb.push("c.search_text like '%' || ")
                    .push_bind(like_escape(t))
                    .push(" || '%'");
            }
            qb.push(")");
        }
    }
}
