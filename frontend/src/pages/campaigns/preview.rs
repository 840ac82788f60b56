//! The live preview of a step: the shared template renderer, run in the browser for a sample lead.

use crate::components::{message_view, SelectField};
use aura_types::template::{self, message_seed, MergeValues, Sender};
use aura_types::{Channel, Contact, StepId};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// A rendered text and the merge tags that had no value and no fallback, or why the template
/// cannot be read.
pub type Rendered = Result<(String, Vec<String>), String>;

/// What is being previewed: a variant of a step, as the editor holds it now.
pub struct Shown<'a> {
    pub step: StepId,
    pub variant: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// The subject and body rendered for `lead` (none: the fallbacks show), with the seed the server
/// uses, so the preview picks the same spintax options the lead will get.
pub fn render_for(lead: Option<&Contact>, org: &str, shown: &Shown<'_>) -> (Rendered, Rendered) {
    let values = sample_values(lead, org);
    let seed = message_seed(
        &lead.map(|c| c.id.to_string()).unwrap_or_default(),
        &shown.step.to_string(),
        shown.variant,
    );
    let render = |text: &str| match template::parse(text) {
        Ok(t) => {
            let r = t.render(&values, seed);
            Ok((r.text, r.missing))
        }
        Err(e) => Err(e.to_string()),
    };
    (render(shown.subject), render(shown.body))
}

/// The preview beside the editor: the sample-lead picker, the message as that lead will see it,
/// and what cannot be filled in.
#[component]
pub fn StepPreview(
    channel: Channel,
    rendered: Memo<(Rendered, Rendered)>,
    contacts: LocalResource<Vec<Contact>>,
    sample: RwSignal<String>,
    personalize: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <aside class="grid content-start gap-3" aria-label="Preview">
            {move || {
                let mut options = vec![(String::new(), "No lead (fallbacks)".to_owned())];
                options.extend(contacts.get().unwrap_or_default().into_iter().map(|c| (c.id.to_string(), c.full_name)));
                view! { <SelectField label="Preview for" name="sample-lead" value=sample options=options /> }
            }}
            {move || {
                let (subject_r, body_r) = rendered.get();
                let missing: Vec<String> = [&subject_r, &body_r].iter().filter_map(|r| r.as_ref().ok()).flat_map(|(_, m)| m.clone()).collect();
                let problem = [&subject_r, &body_r].iter().find_map(|r| r.as_ref().err().cloned());
                let text = body_r.map(|(t, _)| t).unwrap_or_default();
                let subject = (channel == Channel::Email).then(|| subject_r.map(|(s, _)| s).unwrap_or_default());
                let bubble = message_view(channel, subject, text, None);
                view! {
                    {bubble}
                    {problem.map(|p| view! { <p class="rounded-lg bg-red-50 px-3 py-2 text-xs text-red-800" role="alert">{p}</p> })}
                    {(!missing.is_empty()).then(|| view! { <p class="rounded-lg bg-amber-50 px-3 py-2 text-xs text-amber-900" data-testid="unresolved">{format!("No value and no fallback for this lead: {}", missing.iter().map(|m| format!("{{{{{m}}}}}")).collect::<Vec<_>>().join(", "))}</p> })}
                }
            }}
            {move || personalize.get().then(|| view! { <p class="text-xs text-muted">"Each lead's message will be written by AI when messages are prepared; this preview shows the template."</p> })}
        </aside>
    }
}

/// The sample lead's merge values; without a lead, an empty set (fallbacks show).
fn sample_values(contact: Option<&Contact>, org: &str) -> MergeValues {
    let sender = Sender {
        name: "You".into(),
        email: String::new(),
        org_name: org.into(),
    };
    match contact {
        Some(c) => MergeValues::for_contact(c, &sender),
        None => MergeValues(BTreeMap::from([
            ("sender.name".to_string(), "You".to_string()),
            ("org.name".to_string(), org.to_string()),
        ])),
    }
}
