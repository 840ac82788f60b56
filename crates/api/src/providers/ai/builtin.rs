//! The built-in writer: a deterministic offline copywriter. It needs no key and no network and
//! composes copy from the campaign brief, the step, the persona's writing style and the lead,
//! choosing among phrasings with a seed of those inputs — the same inputs always give the same
//! copy, different leads and personas get different copy. Its output is labelled "Built-in writer".
//!
//! Templates use merge tags with fallbacks (`{{first_name | "there"}}`), so every output renders
//! for every lead.

use super::{Answer, ProviderError};
use crate::domain::replies as rules;
use aura_types::ai::{
    AiOperation, AiTask, Direction, EndpointResult, ImproveGoal, ReplyLabel, WritingStyle,
    MAX_SHORT_MESSAGE_CHARS,
};
use aura_types::template::seed_of;
use aura_types::Channel;

pub const MODEL: &str = "aura-writer-1";

pub fn write(task: &AiTask) -> Result<Answer, ProviderError> {
    let result = match task.operation {
        AiOperation::GenerateStepTemplate | AiOperation::GenerateMessageForLead => compose(task),
        AiOperation::ImproveMessage => improve(task),
        AiOperation::SuggestReplies => suggest(task),
        AiOperation::ClassifyReply => classify(task),
        AiOperation::TestConnection => EndpointResult {
            body: Some("OK".into()),
            ..Default::default()
        },
    };
    Ok(Answer {
        result,
        tokens_in: 0,
        tokens_out: 0,
        model: MODEL.into(),
        attempts: 1,
        unusable: None,
    })
}

/// Picks phrasings from a seed; each call to `pick` takes the next choice.
struct Picker {
    seed: u64,
    n: u64,
}

impl Picker {
    fn new(parts: &[&str]) -> Self {
        Self {
            seed: seed_of(parts),
            n: 0,
        }
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        self.n += 1;
        let h = seed_of(&[&self.seed.to_string(), &self.n.to_string()]);
        options[(h % options.len() as u64) as usize]
    }
}

/// A phrase from the brief, trimmed of its final punctuation, or the default.
fn phrase(text: &str, default: &str, max_chars: usize) -> String {
    let t = text.trim().trim_end_matches(['.', '!', ';', ',', ' ']);
    let t = if t.is_empty() { default } else { t };
    let mut out = String::new();
    for word in t.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > max_chars {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    // The phrase continues a sentence: lower-case a capitalised common first word ("A free
    // valuation" → "a free valuation"), but never a name or an acronym ("Austin", "HVAC").
    let first = out.split(' ').next().unwrap_or("");
    if COMMON_FIRST_WORDS.contains(&first.to_lowercase().as_str())
        && first.chars().skip(1).all(|c| c.is_lowercase())
    {
        let mut chars = out.chars();
        match chars.next() {
            Some(a) => a.to_lowercase().chain(chars).collect(),
            None => out,
        }
    } else {
        out
    }
}

const COMMON_FIRST_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "our",
    "your",
    "free",
    "more",
    "faster",
    "better",
    "one",
    "get",
    "save",
    "no",
    "zero",
    "quick",
    "fast",
    "new",
    "every",
    "all",
    "same-day",
    "expert",
    "professional",
    "help",
    "helping",
    "book",
    "booking",
    "find",
    "finding",
    "sell",
    "selling",
    "buy",
    "buying",
    "homeowners",
    "teams",
    "people",
    "owners",
    "families",
    "first-time",
    "small",
    "local",
    "busy",
];

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "mention X" in the step's instructions becomes a line about X.
fn mentioned(instructions: &str) -> Option<String> {
    let lower = instructions.to_lowercase();
    let at = lower.find("mention ")?;
    let rest = &instructions[at + "mention ".len()..];
    let end = rest.find(['.', ';', '\n']).unwrap_or(rest.len());
    let m = rest[..end].trim();
    (!m.is_empty()).then(|| m.to_string())
}

struct Brief {
    offer: String,
    icp: String,
    goal: String,
    proof: Option<String>,
    extra: Option<String>,
    wants_short: bool,
}

fn brief(task: &AiTask) -> Brief {
    let c = task.campaign.clone().unwrap_or_default();
    let instructions = task
        .step
        .as_ref()
        .map(|s| s.instructions.as_str())
        .unwrap_or("");
    let proof = task.knowledge.first().and_then(|k| {
        let first = k.content.split_inclusive(['.', '!', '?']).next()?.trim();
        (first.len() > 10 && first.len() < 220).then(|| first.to_string())
    });
    Brief {
        offer: phrase(&c.offer, "a simpler way to get this done", 110),
        icp: phrase(&c.icp, "teams like yours", 60),
        goal: phrase(&c.goal, "a quick 15-minute call", 60),
        proof,
        extra: mentioned(instructions),
        wants_short: ["short", "brief", "concise"]
            .iter()
            .any(|w| instructions.to_lowercase().contains(w)),
    }
}

fn compose(task: &AiTask) -> EndpointResult {
    let step = task.step.as_ref();
    let channel = step.map_or(Channel::Email, |s| s.channel);
    let number = step.map_or(1, |s| s.number).max(1);
    let lead_key = if task.use_merge_tags {
        String::new()
    } else {
        [
            task.lead.get("email"),
            task.lead.get("phone"),
            task.lead.get("first_name"),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("/")
    };
    let b = brief(task);
    let mut p = Picker::new(&[
        task.persona.style.as_str(),
        &task.persona.name,
        &b.offer,
        &b.icp,
        channel.as_str(),
        &number.to_string(),
        &lead_key,
    ]);
    match channel {
        Channel::Email => {
            let (subject, body) = email(task.persona.style, number, &b, &mut p);
            EndpointResult {
                subject: Some(subject),
                body: Some(body),
                ..Default::default()
            }
        }
        Channel::Whatsapp | Channel::Sms => EndpointResult {
            subject: None,
            body: Some(short_message(
                task.persona.style,
                channel,
                number,
                &b,
                &mut p,
            )),
            ..Default::default()
        },
    }
}

const NAME: &str = "{{first_name | \"there\"}}";
const COMPANY: &str = "{{company | \"your team\"}}";
const SIGN: &str = "{{sender.name | \"The team\"}}\n{{org.name}}";

fn email(style: WritingStyle, number: u16, b: &Brief, p: &mut Picker) -> (String, String) {
    let hi = p.pick(&["Hi", "Hey", "Hello"]);
    let mut paragraphs: Vec<String> = Vec::new();
    let subject;
    if number > 1 {
        subject = match style {
            WritingStyle::HookFirst => p
                .pick(&[
                    "One more thing, {{first_name | \"quick one\"}}",
                    "Still on your radar?",
                    "The part I left out",
                ])
                .to_string(),
            _ => p
                .pick(&[
                    "Following up, {{first_name | \"quick one\"}}",
                    "Re: {{company | \"your plans\"}}",
                    "Worth a second look?",
                ])
                .to_string(),
        };
        paragraphs.push(format!("{hi} {NAME},"));
        paragraphs.push(match style {
            WritingStyle::OfferFirst => format!(
                "{} {}. The offer still stands, and the risk is still on us: {}.",
                p.pick(&["Quick follow-up on", "Circling back on", "Bumping this up:"]),
                b.offer,
                p.pick(&["if it doesn't pay for itself, you don't pay", "no result, no invoice", "if you don't see the value, you owe us nothing"])
            ),
            WritingStyle::Consultative => format!(
                "{} {}, I'd rather ask than assume: is {} a priority for {COMPANY} right now, or should I check back later?",
                p.pick(&["I know inboxes get busy.", "No pressure at all.", "I realise timing matters."]),
                p.pick(&["Before I go quiet", "One last question", "Rather than chase"]),
                b.offer
            ),
            WritingStyle::HookFirst => format!(
                "{}\n\n{} is the fastest win I know of for {}.",
                p.pick(&["Most people skip this. The ones who don't see results in weeks.", "Here's what nobody tells you about this.", "One idea, thirty seconds."]),
                capitalized(&b.offer),
                b.icp
            ),
            WritingStyle::Conversational => format!(
                "{} {}. {}",
                p.pick(&["Just checking you saw my note about", "Wanted to follow up on", "Coming back to"]),
                b.offer,
                p.pick(&["Happy to answer any questions.", "No rush at all.", "Totally fine if the timing's off."])
            ),
        });
        if let Some(extra) = &b.extra {
            paragraphs.push(format!("Also worth knowing: {extra}."));
        }
        paragraphs.push(format!("Would {} make sense?", b.goal));
    } else {
        match style {
            WritingStyle::OfferFirst => {
                subject = p
                    .pick(&[
                        "{{first_name | \"Quick\"}}: an offer for {{company | \"you\"}}",
                        "{{company | \"Your team\"}} + a no-risk offer",
                        "An offer worth 2 minutes, {{first_name | \"friend\"}}",
                    ])
                    .to_string();
                paragraphs.push(format!("{hi} {NAME},"));
                paragraphs.push(format!(
                    "{} {}{}",
                    p.pick(&["I help", "I work with", "Most of my week goes to"]),
                    b.icp,
                    p.pick(&[
                        ", so I'll skip the long intro.",
                        ", so I'll get straight to the offer.",
                        ". Here's the offer, no fluff.",
                    ])
                ));
                paragraphs.push(format!(
                    "What you get:\n- {}\n- {}\n- {}",
                    capitalized(&b.offer),
                    p.pick(&[
                        "A plan built around {{company | \"your situation\"}}, not a template",
                        "Done for you, so it costs you almost no time",
                        "A clear next step within 48 hours"
                    ]),
                    p.pick(&[
                        "Results you can measure in the first 30 days",
                        "A single point of contact who answers the same day",
                        "Everything in writing before you commit"
                    ])
                ));
                paragraphs.push(format!(
                    "And the risk is on us: {}.",
                    p.pick(&[
                        "if it doesn't pay for itself, you don't pay",
                        "if you don't see the value, you owe us nothing",
                        "if it isn't worth it, walk away, no questions"
                    ])
                ));
            }
            WritingStyle::Consultative => {
                subject = p
                    .pick(&[
                        "Question about {{company | \"your plans\"}}",
                        "{{first_name | \"Hi\"}}, quick question",
                        "An idea for {{company | \"you\"}}",
                    ])
                    .to_string();
                paragraphs.push(format!("{hi} {NAME},"));
                paragraphs.push(format!(
                    "I work with {} and {}. {} {}.",
                    b.icp,
                    p.pick(&[
                        "thought {{company | \"your team\"}} might be in a similar spot",
                        "noticed a pattern that may apply to {{company | \"you\"}}",
                        "wanted to reach out before assuming anything"
                    ]),
                    p.pick(&["We help with", "What we do is simple:", "Our focus is"]),
                    b.offer
                ));
                paragraphs.push(p.pick(&[
                    "If you already have something in place, this usually works alongside it rather than replacing it.",
                    "If timing is the worry, the first step takes about ten minutes and commits you to nothing.",
                    "If cost is the question, most clients see it pay back before the first invoice is due.",
                ]).to_string());
            }
            WritingStyle::HookFirst => {
                subject = p
                    .pick(&[
                        "{{first_name | \"Quick\"}}, most people miss this",
                        "30 seconds, {{first_name | \"friend\"}}?",
                        "The fastest win I know",
                    ])
                    .to_string();
                paragraphs.push(format!("{NAME},"));
                paragraphs.push(
                    p.pick(&[
                        "Most people overthink this. The best ones don't.",
                        "Here's a number that surprised me: most never ask.",
                        "One idea. Thirty seconds. Could change your month.",
                    ])
                    .to_string(),
                );
                paragraphs.push(format!("{}.\nThat's it. No catch.", capitalized(&b.offer)));
            }
            WritingStyle::Conversational => {
                subject = p
                    .pick(&[
                        "Hello from {{org.name}}",
                        "A quick note, {{first_name | \"there\"}}",
                        "Thought of you",
                    ])
                    .to_string();
                paragraphs.push(format!("{hi} {NAME},"));
                paragraphs.push(format!(
                    "{} {} {}.",
                    p.pick(&[
                        "It's {{sender.name | \"me\"}} from {{org.name}}.",
                        "Hope you're well.",
                        "Hope your week's going well."
                    ]),
                    p.pick(&[
                        "I wanted to tell you about",
                        "Quick one about",
                        "I thought you'd like to hear about"
                    ]),
                    b.offer
                ));
            }
        }
        if let Some(proof) = &b.proof {
            if !b.wants_short {
                paragraphs.push(proof.clone());
            }
        }
        if let Some(extra) = &b.extra {
            paragraphs.push(format!("Also worth knowing: {extra}."));
        }
        paragraphs.push(match style {
            WritingStyle::OfferFirst => {
                format!("Want it? Reply \"yes\" and we'll set up {}.", b.goal)
            }
            WritingStyle::Consultative => {
                format!("Would {} be worth it to see if this fits?", b.goal)
            }
            WritingStyle::HookFirst => format!(
                "Curious? Reply \"more\" and I'll send the details, or we can do {}.",
                b.goal
            ),
            WritingStyle::Conversational => format!("Would {} suit you?", b.goal),
        });
    }
    if b.wants_short && paragraphs.len() > 3 {
        paragraphs.drain(2..paragraphs.len() - 1);
    }
    paragraphs.push(SIGN.to_string());
    (subject, paragraphs.join("\n\n"))
}

fn short_message(
    style: WritingStyle,
    channel: Channel,
    number: u16,
    b: &Brief,
    p: &mut Picker,
) -> String {
    let offer = phrase(&b.offer, "", 90);
    let goal = phrase(&b.goal, "", 50);
    let open = match (style, number > 1) {
        (_, true) => p.pick(&[
            "Hi {{first_name | \"there\"}}, just following up.",
            "Hi {{first_name | \"there\"}}, circling back.",
        ]),
        (WritingStyle::HookFirst, false) => p.pick(&[
            "{{first_name | \"Hey\"}}, 10 seconds?",
            "Quick one, {{first_name | \"friend\"}}:",
        ]),
        (WritingStyle::OfferFirst, false) => p.pick(&[
            "Hi {{first_name | \"there\"}}, straight to it:",
            "Hi {{first_name | \"there\"}}, an offer for you:",
        ]),
        _ => p.pick(&[
            "Hi {{first_name | \"there\"}}, it's {{sender.name | \"us\"}} from {{org.name}}.",
            "Hey {{first_name | \"there\"}}!",
        ]),
    };
    let middle = match style {
        WritingStyle::OfferFirst => format!(
            "{}, and if it's not worth it you pay nothing.",
            capitalized(&offer)
        ),
        WritingStyle::Consultative => format!("We help {} with {}.", phrase(&b.icp, "", 40), offer),
        _ => format!("{}.", capitalized(&offer)),
    };
    let ask = match style {
        WritingStyle::Consultative => format!("Is {goal} worth a look?"),
        _ => p
            .pick(&["Interested?", "Want the details?", "Worth a chat?"])
            .to_string(),
    };
    let mut text = format!("{open} {middle} {ask}");
    if channel == Channel::Sms && number == 1 {
        text.push_str(" Reply STOP to opt out.");
    }
    shorten(&text, MAX_SHORT_MESSAGE_CHARS - 40)
}

/// Cuts at a word boundary so the text (with tags at their fallback length) stays short.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        if out.chars().count() + word.chars().count() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

const FILLERS: &[&str] = &[
    "I hope this email finds you well. ",
    "I hope this finds you well. ",
    "I hope you're doing well. ",
    "just ",
    "really ",
    "actually ",
    "very ",
    "basically ",
    "I wanted to reach out because ",
    "I wanted to ",
];

const CASUAL: &[(&str, &str)] = &[
    ("Dear ", "Hi "),
    ("Hello ", "Hey "),
    ("I would ", "I'd "),
    ("I am ", "I'm "),
    ("We are ", "We're "),
    ("we are ", "we're "),
    ("do not ", "don't "),
    ("cannot ", "can't "),
    ("It is ", "It's "),
    ("it is ", "it's "),
    ("Would you be available", "Are you free"),
    ("Kind regards", "Cheers"),
    ("Best regards", "Cheers"),
    ("Sincerely", "Thanks"),
    ("Furthermore, ", "Also, "),
    ("However, ", "But "),
];

const HYPE: &[&str] = &[
    "guaranteed ",
    "Guaranteed ",
    "risk-free ",
    "100% ",
    "act now",
    "Act now",
    "limited time ",
    "Limited time ",
    "once in a lifetime ",
    "no obligation ",
    "FREE ",
    "free!!! ",
    "urgent ",
    "URGENT ",
];

fn improve(task: &AiTask) -> EndpointResult {
    let text = task.text.clone().unwrap_or_default();
    let channel = task.step.as_ref().map_or(Channel::Email, |s| s.channel);
    let goal = task.goal.unwrap_or(ImproveGoal::Shorter);
    let (subject, body) = match goal {
        ImproveGoal::Shorter => (
            task.subject.as_deref().map(|s| first_words(s, 6)),
            shorter(&text),
        ),
        ImproveGoal::MoreCasual => {
            let mut t = text.clone();
            for (from, to) in CASUAL {
                t = t.replace(from, to);
            }
            (task.subject.clone(), t)
        }
        ImproveGoal::MoreCompliant => {
            let mut t = text.clone();
            for word in HYPE {
                t = t.replace(word, "");
            }
            while t.contains("!!") {
                t = t.replace("!!", "!");
            }
            let t = t.replace('!', ".");
            let t = t
                .split(' ')
                .map(|w| {
                    if w.len() > 3 && w.chars().all(|c| c.is_uppercase()) {
                        capitalized(&w.to_lowercase())
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let opt_out = match channel {
                Channel::Email => "If this isn't relevant, reply \"no\" and I won't write again.",
                Channel::Sms => "Reply STOP to opt out.",
                Channel::Whatsapp => "Reply STOP and we won't message you again.",
            };
            let t = if t.to_lowercase().contains("stop") || t.contains("won't write again") {
                t
            } else {
                format!("{}\n\n{opt_out}", t.trim_end())
            };
            (
                task.subject
                    .as_deref()
                    .map(|s| s.replace('!', "").replace("FREE", "Free")),
                t,
            )
        }
        ImproveGoal::HigherReplyRate => {
            let short = shorter(&text);
            let mut paragraphs: Vec<&str> = short.split("\n\n").collect();
            let has_question = short.contains('?');
            let ask = "Would it be worth a quick reply to tell me if this is useful?";
            let body = if has_question {
                short.clone()
            } else {
                let sign_at = paragraphs
                    .len()
                    .saturating_sub(1)
                    .max(1)
                    .min(paragraphs.len());
                paragraphs.insert(sign_at, ask);
                paragraphs.join("\n\n")
            };
            (task.subject.as_deref().map(|s| first_words(s, 5)), body)
        }
    };
    let body = match channel {
        Channel::Email => body,
        _ => shorten(&body.replace("\n\n", " "), MAX_SHORT_MESSAGE_CHARS),
    };
    EndpointResult {
        subject: if channel == Channel::Email {
            subject
        } else {
            None
        },
        body: Some(body),
        ..Default::default()
    }
}

fn first_words(s: &str, n: usize) -> String {
    s.split_whitespace().take(n).collect::<Vec<_>>().join(" ")
}

/// Keeps the greeting, the first two sentences of the message, its last question and the
/// sign-off; drops filler.
fn shorter(text: &str) -> String {
    let mut t = text.to_string();
    for f in FILLERS {
        t = t.replace(f, "");
    }
    let paragraphs: Vec<&str> = t
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if paragraphs.len() <= 3 {
        return paragraphs.join("\n\n");
    }
    let greeting = paragraphs[0];
    let sign = paragraphs[paragraphs.len() - 1];
    let middle = &paragraphs[1..paragraphs.len() - 1];
    let sentences: Vec<&str> = middle
        .iter()
        .flat_map(|p| p.split_inclusive(['.', '?', '!']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut kept: Vec<&str> = sentences.iter().take(2).copied().collect();
    if let Some(q) = sentences.iter().rev().find(|s| s.ends_with('?')) {
        if !kept.contains(q) {
            kept.push(q);
        }
    }
    [greeting.to_string(), kept.join(" "), sign.to_string()].join("\n\n")
}

fn suggest(task: &AiTask) -> EndpointResult {
    let last = task
        .conversation
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound)
        .map(|m| m.text.as_str())
        .unwrap_or("");
    let label = rules::classify(last, None, None, &Default::default())
        .map(|c| c.label)
        .unwrap_or_else(|| heuristic(last).0);
    let mut p = Picker::new(&[last, task.persona.style.as_str(), &task.persona.name]);
    let answer = task
        .knowledge
        .first()
        .and_then(|k| k.content.split_inclusive(['.', '!', '?']).next())
        .map(str::trim);
    let hi = match task.persona.style {
        WritingStyle::Conversational | WritingStyle::HookFirst => "Hey {{first_name | \"there\"}}",
        _ => "Hi {{first_name | \"there\"}}",
    };
    let replies: Vec<String> = match label {
        ReplyLabel::Interested => vec![
            format!("{hi}, great to hear! Would {} work for a quick call?", p.pick(&["Tuesday or Thursday", "tomorrow morning or afternoon", "later this week"])),
            format!("{hi}, brilliant. What's the best number and time to reach you?"),
            format!("{hi}, thanks! I'll send over the details now. Anything specific you'd like me to cover?"),
        ],
        ReplyLabel::MeetingRequest => vec![
            format!("{hi}, gladly. Does {} suit you? I'll send a calendar invite.", p.pick(&["Thursday at 10", "Tuesday afternoon", "Friday morning"])),
            format!("{hi}, let's do it. Which time works best for you, and where should we meet?"),
            format!("{hi}, perfect. I'll hold that time for you and confirm the details shortly."),
        ],
        ReplyLabel::WrongPerson => vec![
            format!("{hi}, thanks for letting me know, and sorry for the bother. Who would be the right person to talk to?"),
            format!("{hi}, thank you! I'll reach out to them directly and won't write to you about this again."),
            format!("{hi}, much appreciated. May I mention that you pointed me their way?"),
        ],
        ReplyLabel::Question => vec![
            match answer {
                Some(a) => format!("{hi}, good question. {a} Want me to send the details?"),
                None => format!("{hi}, good question. Short answer: it depends on your situation, so I'd rather not guess. Could we do a quick call to get it right?"),
            },
            format!("{hi}, happy to explain. Is it easier by phone or should I write it up here?"),
            format!("{hi}, thanks for asking. Let me check the specifics and come back to you today."),
        ],
        ReplyLabel::NotInterested | ReplyLabel::Unsubscribe => vec![
            format!("{hi}, understood, thanks for letting me know. I won't follow up again."),
            format!("{hi}, no problem at all. If anything changes, just reply here."),
            format!("{hi}, thanks for the honest answer. Is it the timing, or is it not a fit at all?"),
        ],
        ReplyLabel::OutOfOffice => vec![
            "Thanks, I'll follow up when you're back.".to_string(),
            format!("{hi}, no rush. I'll check back in a week or so."),
            format!("{hi}, enjoy the time off. I'll be in touch when you're back."),
        ],
        ReplyLabel::Bounce | ReplyLabel::Other => vec![
            format!("{hi}, thanks for getting back to me. How can I help?"),
            format!("{hi}, thanks! Would a quick call be easier to go through this?"),
            format!("{hi}, got it. Let me know what you'd like to do next."),
        ],
    };
    EndpointResult {
        replies: Some(replies),
        ..Default::default()
    }
}

/// The writer's own reading of a reply the rules were not certain about.
fn heuristic(text: &str) -> (ReplyLabel, f32, &'static str) {
    let t = rules::own_words(text).to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&[
        "not interested",
        "no thanks",
        "no thank you",
        "not right now",
        "not a fit",
        "we're good",
        "we are good",
        "already have",
        "please pass",
        "not for us",
    ]) {
        (ReplyLabel::NotInterested, 0.75, "declines in so many words")
    } else if has(&[
        "wrong person",
        "not the right person",
        "no longer work",
        "no longer with",
        "left the company",
        "you should contact",
        "you should reach",
        "reach out to",
        "i've forwarded",
        "i have forwarded",
    ]) {
        (
            ReplyLabel::WrongPerson,
            0.7,
            "says someone else is the one to talk to",
        )
    } else if has(&[
        "can we talk",
        "could we talk",
        "can we meet",
        "could we meet",
        "set up a call",
        "schedule a",
        "book a",
        "a viewing",
        "appointment",
        "calendar",
        "talk on",
        "meet on",
    ]) {
        (
            ReplyLabel::MeetingRequest,
            0.7,
            "asks to meet or talk at a time",
        )
    } else if has(&[
        "interested",
        "sounds good",
        "let's talk",
        "lets talk",
        "call me",
        "book",
        "tell me more",
        "send me",
        "send the details",
        "keen",
        "yes please",
        "count me in",
        "sounds great",
        "sounds interesting",
    ]) {
        (
            ReplyLabel::Interested,
            0.75,
            "asks to go ahead or to hear more",
        )
    } else if t.contains('?')
        || has(&[
            "how much",
            "what is",
            "what's the",
            "can you",
            "do you",
            "is there",
        ])
    {
        (ReplyLabel::Question, 0.7, "asks a question")
    } else {
        (ReplyLabel::Other, 0.4, "no clear signal")
    }
}

fn classify(task: &AiTask) -> EndpointResult {
    let (label, confidence, reason) = heuristic(task.text.as_deref().unwrap_or(""));
    EndpointResult {
        label: Some(label),
        confidence: Some(confidence),
        reason: Some(format!("Built-in writer: {reason}")),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aura_types::ai::{CampaignBrief, StepBrief, TaskPersona};
    use aura_types::template::{parse, MergeValues};
    use proptest::prelude::*;

    fn task(
        style: WritingStyle,
        channel: Channel,
        number: u16,
        offer: &str,
        lead: &[(&str, &str)],
        tags: bool,
    ) -> AiTask {
        let mut t = crate::ai::task(AiOperation::GenerateStepTemplate, "write");
        t.persona = TaskPersona {
            name: style.label().into(),
            style,
            system_prompt: String::new(),
        };
        t.campaign = Some(CampaignBrief {
            name: "C".into(),
            offer: offer.into(),
            icp: "homeowners in Austin".into(),
            goal: "a quick call".into(),
        });
        t.step = Some(StepBrief {
            channel,
            number,
            instructions: String::new(),
        });
        t.lead = lead
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.use_merge_tags = tags;
        t
    }

    fn text(t: &AiTask) -> (Option<String>, String) {
        let r = write(t).expect("writes").result;
        (r.subject, r.body.expect("a body"))
    }

    #[test]
    fn the_writer_reads_meetings_referrals_declines_and_interest() {
        for (text, label) in [
            (
                "Can we meet on Friday at the office?",
                ReplyLabel::MeetingRequest,
            ),
            (
                "Could we talk on Thursday afternoon?",
                ReplyLabel::MeetingRequest,
            ),
            (
                "I'm the wrong person, please reach out to Ana in purchasing.",
                ReplyLabel::WrongPerson,
            ),
            ("Not interested, thanks.", ReplyLabel::NotInterested),
            (
                "Yes, I'm interested, send me the details.",
                ReplyLabel::Interested,
            ),
            ("How much is the fee?", ReplyLabel::Question),
            ("Noted.", ReplyLabel::Other),
        ] {
            assert_eq!(heuristic(text).0, label, "{text}");
        }
    }

    #[test]
    fn deterministic_and_varied_across_leads_and_personas() {
        let a = task(
            WritingStyle::OfferFirst,
            Channel::Email,
            1,
            "a free valuation",
            &[("first_name", "Ana"), ("email", "ana@x.com")],
            false,
        );
        assert_eq!(text(&a), text(&a));
        let b = task(
            WritingStyle::OfferFirst,
            Channel::Email,
            1,
            "a free valuation",
            &[("first_name", "Raj"), ("email", "raj@x.com")],
            false,
        );
        let c = task(
            WritingStyle::Consultative,
            Channel::Email,
            1,
            "a free valuation",
            &[("first_name", "Ana"), ("email", "ana@x.com")],
            false,
        );
        assert_ne!(text(&a), text(&c), "personas write differently");
        // Across many leads, phrasing varies (not only the name).
        let variants: std::collections::HashSet<String> = (0..20)
            .map(|i| {
                let email = format!("lead{i}@x.com");
                let t = task(
                    WritingStyle::OfferFirst,
                    Channel::Email,
                    1,
                    "a free valuation",
                    &[("email", email.as_str())],
                    false,
                );
                text(&t).1
            })
            .collect();
        assert!(variants.len() >= 5, "only {} variants", variants.len());
        assert_ne!(text(&a), text(&b), "leads get their own copy");
    }

    #[test]
    fn styles_follow_their_rules() {
        let (_, hormozi) = text(&task(
            WritingStyle::OfferFirst,
            Channel::Email,
            1,
            "a free valuation",
            &[],
            true,
        ));
        assert!(
            hormozi.contains("What you get:") && hormozi.contains("risk is on us"),
            "{hormozi}"
        );
        let (_, sales) = text(&task(
            WritingStyle::Consultative,
            Channel::Email,
            1,
            "a free valuation",
            &[],
            true,
        ));
        assert_eq!(sales.matches('?').count(), 1, "one question: {sales}");
        let (subject, wa) = text(&task(
            WritingStyle::Conversational,
            Channel::Whatsapp,
            1,
            "a free valuation",
            &[],
            true,
        ));
        assert!(subject.is_none());
        assert!(wa.chars().count() < MAX_SHORT_MESSAGE_CHARS);
        let (_, sms) = text(&task(
            WritingStyle::HookFirst,
            Channel::Sms,
            1,
            "a free valuation",
            &[],
            true,
        ));
        assert!(sms.contains("Reply STOP"));
    }

    proptest! {
        #[test]
        fn every_output_renders_without_unresolved_tags(
            offer in "[A-Za-z ,.'-]{0,160}",
            first in proptest::option::of("[A-Z][a-z]{1,12}"),
            company in proptest::option::of("[A-Z][a-z]{1,20}( Homes)?"),
            style in 0usize..4,
            channel in 0usize..3,
            number in 1u16..5,
        ) {
            let style = WritingStyle::ALL[style];
            let channel = Channel::ALL[channel];
            let mut lead = vec![("email", "lead@example.com")];
            if let Some(f) = &first { lead.push(("first_name", f.as_str())); }
            if let Some(c) = &company { lead.push(("company", c.as_str())); }
            let t = task(style, channel, number, &offer, &lead, true);
            let (subject, body) = text(&t);
            prop_assert_eq!(subject.is_some(), channel == Channel::Email);
            // The sender and organization are always known when a message is rendered.
            let values = MergeValues(
                lead.iter()
                    .chain(&[("org.name", "Acme Realty"), ("sender.name", "Sam")])
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
            for part in subject.iter().chain(std::iter::once(&body)) {
                let tpl = parse(part).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let r = tpl.render(&values, 1);
                prop_assert!(r.missing.is_empty(), "unresolved {:?} in {}", r.missing, part);
                prop_assert!(!r.text.contains("{{"));
                if channel != Channel::Email {
                    prop_assert!(r.text.chars().count() <= MAX_SHORT_MESSAGE_CHARS, "{} chars", r.text.chars().count());
                }
            }
        }
    }
}
