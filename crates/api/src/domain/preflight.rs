//! The pre-flight check: everything that must hold before a campaign goes out (launching and
//! resuming are refused while a check fails), as a rule over facts read beforehand.

use crate::domain::campaign::{describe_problems, launch_problem, tag_problems};
use aura_types::{
    ApprovalMode, Campaign, Channel, Contact, MailboxStatus, Preflight, PreflightCheck, Step,
};

fn check(check: &str, ok: bool, detail: impl Into<String>) -> PreflightCheck {
    PreflightCheck {
        check: check.into(),
        ok,
        detail: detail.into(),
        warning: false,
    }
}

/// A check that passes with something to read before launch.
fn warn(check: &str, detail: impl Into<String>) -> PreflightCheck {
    PreflightCheck {
        check: check.into(),
        ok: true,
        detail: detail.into(),
        warning: true,
    }
}

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// What pre-flight looks at, read in one go (`db::reports::preflight_facts`).
pub struct Facts {
    pub campaign: Campaign,
    pub steps: Vec<Step>,
    /// For a campaign with an email step: its mailboxes and the organization's postal address.
    pub email: Option<EmailFacts>,
    /// For each text channel (SMS, WhatsApp) a step uses: the organization's numbers that send
    /// on it, and whether they are the sandbox's only.
    pub texts: Vec<(Channel, usize, bool)>,
    /// Enrolled leads with a US (+1) WhatsApp number.
    pub whatsapp_us_leads: i64,
    pub messages: MessageCounts,
    /// Leads enrolled and active.
    pub active_leads: i64,
    /// While no message is prepared: the enrolled leads and the organization's public name, to
    /// render every step for every lead.
    pub leads: Option<(Vec<Contact>, String)>,
}

pub struct EmailFacts {
    /// Each mailbox's address and status.
    pub mailboxes: Vec<(String, MailboxStatus)>,
    pub postal_address: Option<String>,
}

/// A campaign's prepared messages: all, approved, and undecided with problems.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub all: i64,
    pub approved: i64,
    pub with_problems: i64,
}

/// Everything that must hold before a campaign goes out.
pub fn checks(f: &Facts) -> Preflight {
    let (campaign, steps) = (&f.campaign, &f.steps);
    let mut checks = vec![match launch_problem(steps) {
        Some(p) => check("steps", false, p),
        None => check(
            "steps",
            true,
            format!("{} step(s) with a message", steps.len()),
        ),
    }];
    if let Some(email) = &f.email {
        let with = |status: MailboxStatus| -> Vec<&str> {
            email
                .mailboxes
                .iter()
                .filter(|(_, s)| *s == status)
                .map(|(address, _)| address.as_str())
                .collect()
        };
        let (active, paused) = (with(MailboxStatus::Active), with(MailboxStatus::Paused));
        checks.push(if email.mailboxes.is_empty() {
            check("mailboxes", false, "Choose the mailboxes this campaign sends from (Settings → Mailboxes to add one).")
        } else if active.is_empty() {
            check("mailboxes", false, format!("Every mailbox of this campaign is paused ({}); resume one in Settings → Mailboxes.", paused.join(", ")))
        } else {
            let mut detail = format!("Sends from {}", active.join(", "));
            if !paused.is_empty() {
                detail.push_str(&format!(" ({} paused)", paused.join(", ")));
            }
            check("mailboxes", true, detail)
        });
        let address = email
            .postal_address
            .as_deref()
            .filter(|a| !a.trim().is_empty());
        checks.push(match address {
            Some(a) => check("postal_address", true, format!("Footer: {a}")),
            None => check("postal_address", false, "Add your organization's postal address (Settings → Organization); the law requires it in the footer of marketing email."),
        });
    }
    for (channel, numbers, sandbox) in &f.texts {
        let name = channel.label();
        checks.push(match (numbers, sandbox) {
            (0, _) => check(
                "numbers",
                false,
                format!("Connect a number that sends {name} (Settings → Channels), or the sandbox number to try it out."),
            ),
            (_, true) => check(
                "numbers",
                true,
                format!("{name} goes to the sandbox number's outbox: kept, not sent"),
            ),
            (n, false) => check(
                "numbers",
                true,
                format!("{name} goes from {n} number(s), each at its own pace, never in the lead's quiet hours"),
            ),
        });
    }
    let marketing: Vec<&str> = steps
        .iter()
        .filter(|s| s.channel == Channel::Whatsapp)
        .filter_map(|s| s.whatsapp_template.as_ref())
        .filter(|t| t.is_marketing())
        .map(|t| t.name.as_str())
        .collect();
    if !marketing.is_empty() {
        checks.push(if f.whatsapp_us_leads > 0 {
            warn(
                "whatsapp_templates",
                format!(
                    "Meta does not deliver marketing templates to US (+1) WhatsApp numbers: {} lead(s) here have one, and \"{}\" is a marketing template. Outside their 24-hour window they will not get it; pick a utility template, or reach them by SMS.",
                    f.whatsapp_us_leads,
                    marketing.join("\", \"")
                ),
            )
        } else {
            check(
                "whatsapp_templates",
                true,
                "No lead has a US (+1) WhatsApp number, where Meta does not deliver marketing templates",
            )
        });
    }
    let MessageCounts {
        all,
        approved,
        with_problems,
    } = f.messages;
    checks.push(if all == 0 {
        let problems = match &f.leads {
            Some((leads, org_name)) => tag_problems(steps, leads, org_name),
            None => Vec::new(),
        };
        match describe_problems(&problems) {
            Some(p) => check("tags", false, p),
            None => check("tags", true, "Every merge tag has a value or a fallback for every lead"),
        }
    } else if with_problems > 0 {
        check("tags", false, format!("{with_problems} message(s) have problems (a tag with no value, a missing address); fix or reject them in Review."))
    } else {
        check("tags", true, "No message has problems")
    });
    checks.push(match (campaign.approval, f.active_leads, approved) {
        (_, 0, _) => check(
            "messages",
            true,
            "No leads enrolled yet; they are sent to once enrolled and their messages approved",
        ),
        (ApprovalMode::Auto, _, _) => check(
            "messages",
            true,
            "Messages are written and approved as leads come due",
        ),
        (ApprovalMode::Manual, _, 0) => check(
            "messages",
            false,
            "No approved messages yet: prepare and approve them in Review.",
        ),
        (ApprovalMode::Manual, _, n) => check(
            "messages",
            true,
            format!("{n} approved message(s); leads whose message is not approved wait"),
        ),
    });
    let w = &campaign.window;
    checks.push(if w.days.is_empty() {
        check("window", false, "Choose at least one sending day.")
    } else {
        let days: Vec<&str> = w
            .days
            .iter()
            .filter_map(|d| DAY_NAMES.get(usize::from(*d).wrapping_sub(1)).copied())
            .collect();
        check(
            "window",
            true,
            format!(
                "{} {}–{} in each lead's time zone ({} when unknown)",
                days.join(" "),
                w.start,
                w.end,
                campaign.timezone
            ),
        )
    });
    Preflight::new(checks)
}
