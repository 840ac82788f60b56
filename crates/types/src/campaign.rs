//! Campaigns and their steps, and the campaign state machine.

use crate::contact::{nullable, Channel};
use crate::ids::{CampaignId, PersonaId, StepId, UserId};
use crate::string_enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

string_enum!(
    /// Where a campaign is in its life: draft → active ⇄ paused → completed; archived.
    #[derive(Default)]
    CampaignStatus as "campaign_status" {
        #[default]
        Draft = "draft" / "Draft",
        Active = "active" / "Active",
        Paused = "paused" / "Paused",
        Completed = "completed" / "Completed",
        Archived = "archived" / "Archived",
    }
);

string_enum!(
    /// Whether prepared messages wait for a person's approval.
    #[derive(Default)]
    ApprovalMode as "approval_mode" {
        /// Every message is approved by a person before it can be sent.
        #[default]
        Manual = "manual" / "Approve every message",
        /// Messages are approved as they are prepared.
        Auto = "auto" / "Auto-approve",
    }
);

impl CampaignStatus {
    /// Whether a campaign may move from `self` to `to`.
    pub fn can_become(self, to: CampaignStatus) -> bool {
        use CampaignStatus::*;
        matches!(
            (self, to),
            (Draft, Active)
                | (Active, Paused)
                | (Paused, Active)
                | (Active, Completed)
                | (Paused, Completed)
                | (Draft, Archived)
                | (Paused, Archived)
                | (Completed, Archived)
        )
    }

    /// Whether its settings and steps may be edited (draft and paused only).
    pub fn is_editable(self) -> bool {
        matches!(self, CampaignStatus::Draft | CampaignStatus::Paused)
    }

    /// Whether it still runs or is to run (not completed or archived): its leads and messages may
    /// still change.
    pub fn is_open(self) -> bool {
        !matches!(self, CampaignStatus::Completed | CampaignStatus::Archived)
    }
}

/// When messages may go out, in the lead's own time zone (the campaign's when the lead has none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SendWindow {
    /// ISO weekdays: 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// Local time `HH:MM`.
    pub start: String,
    /// Local time `HH:MM`, after `start`.
    pub end: String,
}

impl Default for SendWindow {
    fn default() -> Self {
        Self {
            days: vec![1, 2, 3, 4, 5],
            start: "09:00".into(),
            end: "17:00".into(),
        }
    }
}

/// A campaign as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub description: String,
    /// Who it is for (the ideal customer profile).
    pub icp: String,
    pub offer: String,
    pub goal: String,
    pub status: CampaignStatus,
    pub timezone: String,
    pub window: SendWindow,
    /// Most leads started per day.
    pub daily_new_leads: i32,
    pub stop_on_reply: bool,
    pub track_opens: bool,
    pub track_clicks: bool,
    pub approval: ApprovalMode,
    pub created_by: Option<UserId>,
    /// The channels of its steps, in order.
    pub channels: Vec<Channel>,
    /// Enrolled leads by status.
    pub stats: CampaignStats,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new campaign, or changes to one (absent: unchanged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CampaignInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// An IANA time zone; the organization's when a new campaign has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<SendWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_new_leads: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_on_reply: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_opens: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_clicks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalMode>,
}

/// An A/B variant of a step beyond the main one (A).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Variant {
    /// "B", "C"…
    pub label: String,
    #[serde(default)]
    pub subject: String,
    pub body: String,
    /// Relative share of leads.
    pub weight: i32,
}

/// One step of a campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Step {
    pub id: StepId,
    /// 1, 2, 3… in sending order.
    pub position: i32,
    pub channel: Channel,
    /// Minutes after the previous step (the first step: after enrollment).
    pub delay_minutes: i32,
    pub persona_id: Option<PersonaId>,
    pub ai_instructions: String,
    /// Write each lead's message with AI (`generate_message_for_lead`) instead of the template.
    pub personalize: bool,
    /// Email only.
    pub subject: String,
    /// Email follow-ups: sent as a reply, with "Re: " and the subject of the lead's previous email
    /// (this step's own subject when the lead has had none), so it threads in the inbox.
    #[serde(default)]
    pub reply_subject: bool,
    pub body: String,
    /// Weight of the main variant (A).
    pub weight: i32,
    pub variants: Vec<Variant>,
    /// WhatsApp: the approved content template sent instead of the body when the lead's 24-hour
    /// window is closed (its variables filled from merge tags).
    pub whatsapp_template: Option<crate::phone::WhatsAppContent>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A new step, or changes to one (absent: unchanged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StepInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_minutes: Option<i32>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<uuid::Uuid>))]
    pub persona_id: Option<Option<PersonaId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personalize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Email follow-ups: send as a reply ("Re: " and the previous email's subject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_subject: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<Variant>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<crate::phone::WhatsAppContent>))]
    pub whatsapp_template: Option<Option<crate::phone::WhatsAppContent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Where to insert a new step (1-based); at the end when absent. Ignored on updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
}

/// A campaign with its steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CampaignDetail {
    pub campaign: Campaign,
    pub steps: Vec<Step>,
}

/// `POST /campaigns/{id}/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StatusChange {
    pub status: CampaignStatus,
}

/// `POST /campaigns/{id}/steps/reorder`: every step id, in the new order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReorderSteps {
    pub step_ids: Vec<StepId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_state_machine() {
        use CampaignStatus::*;
        assert!(Draft.can_become(Active));
        assert!(Active.can_become(Paused) && Paused.can_become(Active));
        assert!(!Draft.can_become(Paused));
        assert!(!Completed.can_become(Active));
        assert!(
            CampaignStatus::ALL.iter().all(|s| !Archived.can_become(*s)),
            "archived is final"
        );
        assert!(Draft.is_editable() && Paused.is_editable() && !Active.is_editable());
    }

    proptest! {
        /// Any sequence of allowed changes never returns to draft once launched.
        #[test]
        fn statuses_never_regress_to_draft(choices in proptest::collection::vec(0usize..5, 0..30)) {
            let mut s = CampaignStatus::Draft;
            let mut launched = false;
            for c in choices {
                let to = CampaignStatus::ALL[c];
                if s.can_become(to) {
                    s = to;
                    launched |= s != CampaignStatus::Draft;
                }
                prop_assert!(!(launched && s == CampaignStatus::Draft));
            }
        }
    }
}

string_enum!(
    /// Where one enrolled lead stands in a campaign.
    TargetStatus as "target_status" {
        Active = "active" / "Active",
        Paused = "paused" / "Paused",
        Completed = "completed" / "Completed",
    }
);

string_enum!(
    /// Why a contact of the audience was not enrolled.
    SkipReason as "skip_reason" {
        /// No email (or phone / WhatsApp number) for the first step's channel.
        NoAddress = "no_address" / "No address for the first step's channel",
        /// Unsubscribed, bounced, complained or marked do-not-contact.
        NotActive = "not_active" / "Unsubscribed or stopped",
        /// The address or its domain is on the suppression list.
        Suppressed = "suppressed" / "Suppressed",
        /// Consent denied or revoked; SMS and WhatsApp need it granted.
        NoConsent = "no_consent" / "No consent for the channel",
        AlreadyEnrolled = "already_enrolled" / "Already in this campaign",
        /// Active in another running campaign (when asked to skip those).
        InAnotherCampaign = "in_another_campaign" / "Active in another campaign",
    }
);

/// `POST /campaigns/{id}/targets`: enroll an audience (or, with `dry_run`, only count it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    /// Hand-picked ids, or a filter (all contacts: `{"filter": {}}`; with tags:
    /// `{"filter": {"tags_any": "buyer"}}`; a segment: `{"filter": {"segment_id": "…"}}`).
    pub selection: crate::contact::Selection,
    /// Skip leads who are active in another running campaign.
    #[serde(default)]
    pub skip_active_elsewhere: bool,
    /// Count only; enroll nobody.
    #[serde(default)]
    pub dry_run: bool,
}

/// What an enrollment did (or, for a dry run, would do).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EnrollResult {
    /// Contacts the selection matched.
    pub matched: i64,
    /// Contacts enrolled (for a dry run: that would be).
    pub enrolled: i64,
    /// Contacts skipped, by reason.
    pub skipped: std::collections::BTreeMap<SkipReason, i64>,
    pub dry_run: bool,
}

/// One enrolled lead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Target {
    pub contact_id: crate::ids::ContactId,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: TargetStatus,
    /// Steps already sent.
    pub current_step: i32,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_run_at: Option<OffsetDateTime>,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: OffsetDateTime,
}

/// `PATCH /campaigns/{id}/targets/{contact_id}`: pause or resume one lead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TargetChange {
    pub status: TargetStatus,
}

/// Counts of a campaign's targets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CampaignStats {
    pub targets: i64,
    pub active: i64,
    pub paused: i64,
    pub completed: i64,
}

/// One step of a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TemplateStep {
    pub channel: Channel,
    /// Minutes after the previous step (the first: after enrollment).
    #[serde(default)]
    pub delay_minutes: i32,
    #[serde(default)]
    pub subject: String,
    pub body: String,
}

/// A campaign template: a brief and steps to start a campaign from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CampaignTemplate {
    pub id: crate::ids::TemplateId,
    /// Provided by Aura to every organization; read-only (copy it to change it).
    pub system: bool,
    pub name: String,
    pub description: String,
    /// e.g. "Real estate", "SaaS", "Agency", "Home services".
    pub industry: String,
    /// e.g. "Cold outreach", "Lead follow-up", "Seasonal drip".
    pub use_case: String,
    pub channels: Vec<Channel>,
    pub offer: String,
    pub icp: String,
    pub goal: String,
    pub steps: Vec<TemplateStep>,
    /// Campaigns this organization started from it.
    pub usage_count: i32,
}

/// A new organization template, or changes to one (absent: unchanged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TemplateInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<TemplateStep>>,
}

/// `POST /templates/{id}/use`: start a campaign (a draft) from a template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UseTemplate {
    /// The campaign's name; the template's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /campaigns/{id}/save-as-template`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SaveAsTemplate {
    /// The template's name; the campaign's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case: Option<String>,
}

/// A merge tag of a step that some enrolled leads have no value for, and no fallback covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TagProblem {
    /// The step's position.
    pub step: i32,
    /// `subject`, `body`, `variants[0].body`…
    pub field: String,
    /// e.g. `company` or `custom.budget`.
    pub tag: String,
    /// How many enrolled leads lack it.
    pub leads: i64,
    /// Up to five of them, by name.
    pub examples: Vec<String>,
}

/// The text of one A/B variant of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VariantText<'a> {
    /// "A" for the step's own text, then the variants' labels.
    pub label: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

impl Step {
    /// Every variant of the step, A first, with its weight.
    pub fn variant_texts(&self) -> Vec<(VariantText<'_>, i32)> {
        std::iter::once((
            VariantText {
                label: "A",
                subject: &self.subject,
                body: &self.body,
            },
            self.weight,
        ))
        .chain(self.variants.iter().map(|v| {
            (
                VariantText {
                    label: &v.label,
                    subject: &v.subject,
                    body: &v.body,
                },
                v.weight,
            )
        }))
        .collect()
    }

    /// The variant a lead gets: chosen by weight, from a seed of the lead and the step, so the
    /// same lead always gets the same variant (and the shares follow the weights). With no
    /// positive weight, A.
    pub fn variant_for(&self, contact: &str) -> VariantText<'_> {
        let all = self.variant_texts();
        let total: u64 = all.iter().map(|(_, w)| (*w).max(0) as u64).sum();
        if total == 0 {
            return all[0].0;
        }
        let step = self.id.to_string();
        let mut pick = crate::template::seed_of(&[contact, &step, "variant"]) % total;
        for (v, w) in &all {
            let w = (*w).max(0) as u64;
            if pick < w {
                return *v;
            }
            pick -= w;
        }
        all[0].0
    }
}

#[cfg(test)]
mod variant_tests {
    use super::*;

    fn step(weights: &[i32]) -> Step {
        Step {
            id: StepId(uuid::Uuid::from_u128(7)),
            position: 1,
            channel: Channel::Email,
            delay_minutes: 0,
            persona_id: None,
            ai_instructions: String::new(),
            personalize: false,
            subject: "A subject".into(),
            reply_subject: false,
            body: "A body".into(),
            weight: weights[0],
            variants: weights[1..]
                .iter()
                .enumerate()
                .map(|(i, w)| Variant {
                    label: ((b'B' + i as u8) as char).to_string(),
                    subject: String::new(),
                    body: format!("body {i}"),
                    weight: *w,
                })
                .collect(),
            whatsapp_template: None,
            metadata: Default::default(),
        }
    }

    #[test]
    fn shares_follow_the_weights_and_each_lead_keeps_its_variant() {
        let s = step(&[1, 3]);
        let mut counts = std::collections::HashMap::new();
        for i in 0..8000 {
            let lead = format!("lead-{i}");
            let v = s.variant_for(&lead).label;
            assert_eq!(s.variant_for(&lead).label, v);
            *counts.entry(v.to_string()).or_insert(0) += 1;
        }
        let b = counts["B"] as f64 / 8000.0;
        assert!((0.72..0.78).contains(&b), "B got {b}");
    }

    #[test]
    fn zero_weights_never_chosen_and_all_zero_means_a() {
        let s = step(&[0, 5, 0]);
        assert!((0..500).all(|i| s.variant_for(&i.to_string()).label == "B"));
        let s = step(&[0, 0]);
        assert_eq!(s.variant_for("x").label, "A");
    }
}
