//! The system campaign templates every organization can start from (read-only; copy to change),
//! and the parsing of an organization's own templates.

use crate::domain::{optional_text, required_text};
use aura_types::{
    CampaignTemplate, Channel, FieldErrors, StepInput, TemplateId, TemplateInput, TemplateStep,
};

const DAY: i32 = 1440;

struct System {
    n: u128,
    name: &'static str,
    description: &'static str,
    industry: &'static str,
    use_case: &'static str,
    offer: &'static str,
    icp: &'static str,
    goal: &'static str,
    steps: &'static [(Channel, i32, &'static str, &'static str)],
}

const SYSTEM: &[System] = &[
    System {
        n: 1,
        name: "SaaS cold outreach",
        description: "Three short emails: a relevant opener, a proof point, and a polite close-the-loop.",
        industry: "SaaS",
        use_case: "Cold outreach",
        offer: "A 14-day pilot set up for the team in one call",
        icp: "Heads of sales at 20–200 person B2B companies",
        goal: "a 20-minute demo",
        steps: &[
            (Channel::Email, 0, "{{company | \"Your team\"}} + faster follow-ups?",
             "{Hi|Hello} {{first_name | \"there\"}},\n\nMost sales teams I speak with lose deals in the follow-up, not the first call. We built a tool that writes and schedules those follow-ups in each rep's own voice.\n\nWould a 14-day pilot for {{company | \"your team\"}} be worth a 20-minute look?\n\n{{sender.name}}\n{{org.name}}"),
            (Channel::Email, 3 * DAY, "Re: faster follow-ups",
             "{{first_name | \"Hi\"}}, a quick data point: teams on our pilot answer leads 3× faster in the first month, without adding headcount.\n\nHappy to show you how it would look with {{company | \"your\"}} pipeline. Does Thursday work?\n\n{{sender.name}}"),
            (Channel::Email, 4 * DAY, "Should I close your file?",
             "Hi {{first_name | \"there\"}},\n\nI haven't heard back, so I'll assume the timing isn't right. If follow-ups become a priority, just reply to this email and I'll pick it up from here.\n\nAll the best,\n{{sender.name}}"),
        ],
    },
    System {
        n: 2,
        name: "Agency: new client",
        description: "An agency introduces itself with one idea for the prospect and follows up twice.",
        industry: "Agency",
        use_case: "Cold outreach",
        offer: "A free audit with three concrete improvements",
        icp: "Marketing leads at growing local businesses",
        goal: "a 15-minute audit review",
        steps: &[
            (Channel::Email, 0, "One idea for {{company | \"your website\"}}",
             "Hi {{first_name | \"there\"}},\n\nI spent ten minutes on {{company | \"your\"}} site and found three changes that would likely bring more enquiries, starting with a clearer call to action above the fold.\n\nWant the full audit? It's free and takes 15 minutes to walk through.\n\n{{sender.name}}\n{{org.name}}"),
            (Channel::Email, 3 * DAY, "Your audit is ready",
             "{{first_name | \"Hi\"}}, the audit for {{company | \"your business\"}} is ready. Would Tuesday or Wednesday suit for a quick walkthrough?\n\n{{sender.name}}"),
            (Channel::Email, 5 * DAY, "Last note from me",
             "Hi {{first_name | \"there\"}}, I'll leave it here. If you'd like the audit later, reply \"audit\" and it's yours.\n\n{{sender.name}}"),
        ],
    },
    System {
        n: 3,
        name: "Multi-channel: email + WhatsApp",
        description: "Email first, a friendly WhatsApp nudge, a value email, then a last WhatsApp check-in.",
        industry: "General",
        use_case: "Lead follow-up",
        offer: "A short consultation to see if we can help",
        icp: "Leads who asked for information",
        goal: "a quick call",
        steps: &[
            (Channel::Email, 0, "Thanks for your interest, {{first_name | \"there\"}}",
             "Hi {{first_name | \"there\"}},\n\nThanks for getting in touch with {{org.name}}. The quickest way to see if we can help is a short call: no preparation needed.\n\nWhat time suits you this week?\n\n{{sender.name}}"),
            (Channel::Whatsapp, 2 * DAY, "",
             "Hi {{first_name | \"there\"}}, it's {{sender.name | \"the team\"}} from {{org.name}}. I sent you an email about a quick call. Is WhatsApp easier?"),
            (Channel::Email, 3 * DAY, "What clients usually ask us",
             "Hi {{first_name | \"there\"}},\n\nMost people ask the same three things first: how long it takes, what it costs, and what they need to do. The answers are short, and a call is the fastest way to get yours.\n\n{{sender.name}}"),
            (Channel::Whatsapp, 4 * DAY, "",
             "Hi {{first_name | \"there\"}}, last message from me. Reply \"call\" any time and I'll ring you."),
        ],
    },
    System {
        n: 4,
        name: "Real estate: buyer lead follow-up",
        description: "Answer a buyer enquiry fast, share matching homes, and offer a viewing.",
        industry: "Real estate",
        use_case: "Lead follow-up",
        offer: "A shortlist of homes that match what you asked for",
        icp: "Buyers who enquired about a listing",
        goal: "a viewing this week",
        steps: &[
            (Channel::Email, 0, "Homes like the one you asked about",
             "Hi {{first_name | \"there\"}},\n\nThanks for your enquiry. I've put together a shortlist of homes in {{city | \"the area\"}} that match what you're looking for, including two that aren't online yet.\n\nWould you like to see any of them this week?\n\n{{sender.name}}\n{{org.name}}"),
            (Channel::Sms, DAY, "",
             "Hi {{first_name | \"there\"}}, {{sender.name | \"your agent\"}} from {{org.name}} here. Want me to book a viewing for you this week? Reply STOP to opt out."),
            (Channel::Email, 3 * DAY, "New this week in {{city | \"your area\"}}",
             "Hi {{first_name | \"there\"}},\n\nTwo new homes came in this week that fit your budget. They tend to go quickly: shall I hold a viewing slot for you?\n\n{{sender.name}}"),
        ],
    },
    System {
        n: 5,
        name: "Real estate: seller / listing outreach",
        description: "Offer homeowners a free valuation, follow up with market proof, then a final nudge.",
        industry: "Real estate",
        use_case: "Cold outreach",
        offer: "A free, no-obligation valuation within 48 hours",
        icp: "Homeowners who may sell in the next year",
        goal: "a valuation visit",
        steps: &[
            (Channel::Email, 0, "What your home could sell for",
             "Hi {{first_name | \"there\"}},\n\nHomes near you in {{city | \"your area\"}} have been selling quickly this season. If you've wondered what yours could fetch, I can give you a written valuation within 48 hours, free and without obligation.\n\nShall I book a 20-minute visit?\n\n{{sender.name}}\n{{org.name}}"),
            (Channel::Email, 4 * DAY, "Recent sales near you",
             "Hi {{first_name | \"there\"}},\n\nThree homes on streets near yours sold this month, all within three weeks of listing. I'd be happy to show you the figures and what they mean for your home.\n\n{{sender.name}}"),
            (Channel::Email, 7 * DAY, "Still thinking about selling?",
             "Hi {{first_name | \"there\"}}, no pressure at all. When the time is right, reply to this email and your valuation will be ready within two days.\n\n{{sender.name}}"),
        ],
    },
    System {
        n: 6,
        name: "Open house follow-up",
        description: "Thank visitors the same day by email, then check in by SMS.",
        industry: "Real estate",
        use_case: "Event follow-up",
        offer: "The disclosure pack and comparable sales for the home",
        icp: "Visitors who signed in at an open house",
        goal: "a second viewing or an offer",
        steps: &[
            (Channel::Email, 60, "Thanks for visiting today",
             "Hi {{first_name | \"there\"}},\n\nThank you for coming to the open house today. As promised, I can send you the disclosure pack and the comparable sales for the home.\n\nWhat did you think of it? Any questions I can answer?\n\n{{sender.name}}\n{{org.name}}"),
            (Channel::Sms, 2 * DAY, "",
             "Hi {{first_name | \"there\"}}, {{sender.name | \"the agent\"}} from the open house. Would you like a second, private viewing? Reply STOP to opt out."),
        ],
    },
    System {
        n: 7,
        name: "Home services: SMS blast",
        description: "One short SMS with a clear offer and an easy reply, for existing customers.",
        industry: "Home services",
        use_case: "Promotion",
        offer: "15% off a service visit booked this month",
        icp: "Past customers",
        goal: "a booked visit",
        steps: &[(Channel::Sms, 0, "",
            "Hi {{first_name | \"there\"}}, {{org.name}} here: 15% off any service visit booked this month. Reply YES and we'll call to book. Reply STOP to opt out.")],
    },
    System {
        n: 8,
        name: "Seasonal drip: monsoon roof check",
        description: "Before the rains: a reminder, a practical tip, and a last call to book a roof check.",
        industry: "Home services",
        use_case: "Seasonal drip",
        offer: "A pre-monsoon roof and drainage check",
        icp: "Homeowners who used our services before",
        goal: "a booked inspection",
        steps: &[
            (Channel::Email, 0, "Is your roof ready for the monsoon?",
             "Hi {{first_name | \"there\"}},\n\nThe rains are a few weeks away, and most leaks start where gutters are blocked or flashing has lifted. Our pre-monsoon check covers the roof, gutters and drains in under an hour.\n\nShall we book yours before the rush?\n\n{{org.name}}"),
            (Channel::Sms, 4 * DAY, "",
             "Hi {{first_name | \"there\"}}, {{org.name}}: slots for pre-monsoon roof checks are filling up. Reply BOOK and we'll call you. Reply STOP to opt out."),
            (Channel::Whatsapp, 5 * DAY, "",
             "Hi {{first_name | \"there\"}}, last reminder from {{org.name}}: a quick roof check now can save a costly repair later. Want a slot this week?"),
        ],
    },
];

/// The system templates, in a stable order with stable ids.
pub fn system() -> Vec<CampaignTemplate> {
    SYSTEM
        .iter()
        .map(|t| {
            let steps: Vec<TemplateStep> = t
                .steps
                .iter()
                .map(|(channel, delay, subject, body)| TemplateStep {
                    channel: *channel,
                    delay_minutes: *delay,
                    subject: (*subject).into(),
                    body: (*body).into(),
                })
                .collect();
            CampaignTemplate {
                id: TemplateId(uuid::Uuid::from_u128(
                    0x5157_0000_0000_4000_8000_0000_0000_0000 | t.n,
                )),
                system: true,
                name: t.name.into(),
                description: t.description.into(),
                industry: t.industry.into(),
                use_case: t.use_case.into(),
                channels: channels(&steps),
                offer: t.offer.into(),
                icp: t.icp.into(),
                goal: t.goal.into(),
                steps,
                usage_count: 0,
            }
        })
        .collect()
}

/// The channels of `steps`, each once, in order.
pub fn channels(steps: &[TemplateStep]) -> Vec<Channel> {
    let mut out = Vec::new();
    for s in steps {
        if !out.contains(&s.channel) {
            out.push(s.channel);
        }
    }
    out
}

/// A template step as the input of a campaign step.
pub fn step_input(s: &TemplateStep) -> StepInput {
    StepInput {
        channel: Some(s.channel),
        delay_minutes: Some(s.delay_minutes),
        subject: Some(s.subject.clone()),
        body: Some(s.body.clone()),
        ..Default::default()
    }
}

/// The template `input` makes of `current` (or a new one), with every step checked like a campaign
/// step (templates with their line and column).
pub fn template(
    current: Option<&CampaignTemplate>,
    input: &TemplateInput,
) -> Result<CampaignTemplate, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = required_text(
        &mut e,
        "name",
        &input.name,
        current.map(|c| c.name.as_str()),
        120,
    );
    let mut text = |field: &str, v: &Option<String>, old: Option<&String>, max: usize| {
        optional_text(&mut e, field, v, old.map(String::as_str), max)
    };
    let description = text(
        "description",
        &input.description,
        current.map(|c| &c.description),
        500,
    );
    let industry = text(
        "industry",
        &input.industry,
        current.map(|c| &c.industry),
        60,
    );
    let use_case = text(
        "use_case",
        &input.use_case,
        current.map(|c| &c.use_case),
        60,
    );
    let offer = text("offer", &input.offer, current.map(|c| &c.offer), 4000);
    let icp = text("icp", &input.icp, current.map(|c| &c.icp), 4000);
    let goal = text("goal", &input.goal, current.map(|c| &c.goal), 4000);
    let steps = input
        .steps
        .clone()
        .or_else(|| current.map(|c| c.steps.clone()))
        .unwrap_or_default();
    if steps.len() > crate::domain::campaign::MAX_STEPS {
        e.add("steps", "at most 20 steps");
    }
    for (i, s) in steps.iter().enumerate() {
        if let Err(errs) = crate::domain::campaign::step(None, &step_input(s), i as i32 + 1) {
            for (field, message) in errs.0 {
                e.add(&format!("steps[{i}].{field}"), message);
            }
        }
    }
    e.finish(|| {
        Some(CampaignTemplate {
            id: current.map_or_else(TemplateId::new, |c| c.id),
            system: false,
            name: name?,
            description: description?,
            industry: industry?,
            use_case: use_case?,
            channels: channels(&steps),
            offer: offer?,
            icp: icp?,
            goal: goal?,
            steps,
            usage_count: current.map_or(0, |c| c.usage_count),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aura_types::template::{parse, MergeValues};

    #[test]
    fn system_templates_parse_and_render_for_any_lead() {
        let values = MergeValues(
            [("org.name", "Acme"), ("sender.name", "Sam")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let all = system();
        assert_eq!(all.len(), 8);
        for t in &all {
            assert!(
                template(
                    None,
                    &TemplateInput {
                        name: Some(t.name.clone()),
                        steps: Some(t.steps.clone()),
                        ..Default::default()
                    }
                )
                .is_ok(),
                "{}",
                t.name
            );
            for s in &t.steps {
                for part in [&s.subject, &s.body] {
                    let r = parse(part).expect("parses").render(&values, 1);
                    assert!(r.missing.is_empty(), "{}: {:?}", t.name, r.missing);
                }
                assert_eq!(
                    s.subject.is_empty(),
                    s.channel != Channel::Email,
                    "{}: only emails have subjects",
                    t.name
                );
            }
        }
        let ids: std::collections::HashSet<_> = all.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), all.len());
    }
}
