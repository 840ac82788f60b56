//! The step editor: timing, persona, AI instructions, A/B variants, subject and body with merge
//! tags, the SMS segment counter, "Generate with AI", and the live preview beside it.

use super::preview::{render_for, Shown, StepPreview};
use crate::api;
use crate::{
    components::*,
    icons,
    state::{use_api, use_toasts},
};
use aura_types::ai::{CampaignBrief, DraftResult, GenerateRequest, Persona, StepBrief};
use aura_types::template::{
    sms_info, SmsEncoding, LEAD_TAGS, SENDER_TAGS, SMS_LONG_CHARS, SMS_MAX_CHARS,
};
use aura_types::*;
use leptos::{prelude::*, task::spawn_local};
use std::collections::BTreeMap;

#[component]
pub fn StepEditor(
    campaign: Campaign,
    step: Step,
    editable: bool,
    personas: LocalResource<Vec<Persona>>,
    contacts: LocalResource<Vec<Contact>>,
    org_name: String,
    sample: RwSignal<String>,
    on_saved: Callback<CampaignDetail>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let campaign_id = campaign.id;
    let step_id = step.id;
    let channel = step.channel;
    // A/B variants: slot 0 is the main variant (A); the subject, body and weight fields edit the
    // active slot, written back when another tab is chosen and before saving.
    let slots = RwSignal::new(
        std::iter::once(aura_types::Variant {
            label: "A".into(),
            subject: step.subject.clone(),
            body: step.body.clone(),
            weight: step.weight,
        })
        .chain(step.variants.iter().cloned())
        .collect::<Vec<_>>(),
    );
    let active = RwSignal::new(0usize);
    let subject = RwSignal::new(step.subject.clone());
    let body = RwSignal::new(step.body.clone());
    let weight = RwSignal::new(step.weight.to_string());
    let store = move || {
        let i = active.get_untracked();
        slots.update(|v| {
            if let Some(slot) = v.get_mut(i) {
                slot.subject = subject.get_untracked();
                slot.body = body.get_untracked();
                slot.weight = weight.get_untracked().trim().parse().unwrap_or(-1);
            }
        });
    };
    let switch_to = move |i: usize| {
        store();
        if let Some(slot) = slots.get_untracked().get(i) {
            subject.set(slot.subject.clone());
            body.set(slot.body.clone());
            weight.set(slot.weight.to_string());
            active.set(i);
        }
    };
    let add_variant = move |_| {
        store();
        let n = slots.get_untracked().len();
        let label = ((b'A' + n as u8) as char).to_string();
        slots.update(|v| {
            v.push(aura_types::Variant {
                label,
                subject: subject.get_untracked(),
                body: body.get_untracked(),
                weight: 1,
            })
        });
        switch_to(n);
    };
    let remove_variant = move |_| {
        let i = active.get_untracked();
        if i == 0 {
            return;
        }
        slots.update(|v| {
            v.remove(i);
            for (k, slot) in v.iter_mut().enumerate().skip(1) {
                slot.label = ((b'A' + k as u8) as char).to_string();
            }
        });
        if let Some(a) = slots.get_untracked().first() {
            subject.set(a.subject.clone());
            body.set(a.body.clone());
            weight.set(a.weight.to_string());
        }
        active.set(0);
    };
    let instructions = RwSignal::new(step.ai_instructions.clone());
    let persona = RwSignal::new(step.persona_id.map(|p| p.to_string()).unwrap_or_default());
    let personalize = RwSignal::new(step.personalize);
    let reply = RwSignal::new(step.reply_subject);
    let (value, unit) = match step.delay_minutes {
        m if m % 1440 == 0 => (m / 1440, "days"),
        m if m % 60 == 0 => (m / 60, "hours"),
        m => (m, "minutes"),
    };
    let delay_value = RwSignal::new(value.to_string());
    let delay_unit = RwSignal::new(unit.to_owned());
    // WhatsApp: the template sent to a lead whose 24-hour window is closed.
    let wa_template = RwSignal::new(step.whatsapp_template.clone());
    let templates = LocalResource::new(move || async move {
        if channel == Channel::Whatsapp {
            api::phone::whatsapp_templates(api)
                .await
                .map(|t| t.templates)
        } else {
            Ok(Vec::new())
        }
    });
    let errs: FieldErrs = RwSignal::new(BTreeMap::new());
    let proposal = RwSignal::new(None::<DraftResult>);
    let generating = RwSignal::new(false);

    let save = Action::new_local(move |_: &()| {
        let minutes = delay_value
            .get_untracked()
            .trim()
            .parse::<i32>()
            .unwrap_or(-1)
            .saturating_mul(match delay_unit.get_untracked().as_str() {
                "days" => 1440,
                "hours" => 60,
                _ => 1,
            });
        store();
        let all = slots.get_untracked();
        let main = all.first().cloned().unwrap_or_else(|| aura_types::Variant {
            label: "A".into(),
            subject: String::new(),
            body: String::new(),
            weight: 1,
        });
        let input = StepInput {
            weight: Some(main.weight),
            variants: Some(all.iter().skip(1).cloned().collect()),
            delay_minutes: Some(minutes),
            persona_id: Some(persona.get_untracked().parse().ok()),
            ai_instructions: Some(instructions.get_untracked()),
            personalize: Some(personalize.get_untracked()),
            subject: (channel == Channel::Email).then(|| main.subject.clone()),
            reply_subject: (channel == Channel::Email).then(|| reply.get_untracked()),
            body: Some(main.body.clone()),
            whatsapp_template: (channel == Channel::Whatsapp).then(|| wa_template.get_untracked()),
            ..Default::default()
        };
        async move { api::campaigns::update_step(api, campaign_id, step_id, &input).await }
    });
    on_result(save, move |r| match r {
        Ok(d) => {
            errs.set(BTreeMap::new());
            toasts.success("Step saved.");
            on_saved.run(d);
        }
        Err(e) => {
            let f = e.fields();
            if f.is_empty() {
                toasts.error(e.message());
            }
            errs.set(f);
        }
    });
    let brief = CampaignBrief {
        name: campaign.name.clone(),
        offer: campaign.offer.clone(),
        icp: campaign.icp.clone(),
        goal: campaign.goal.clone(),
    };
    let number = step.position as u16;
    let generate = move |_| {
        generating.set(true);
        proposal.set(None);
        let request = GenerateRequest {
            persona_id: persona.get_untracked().parse().ok(),
            campaign: brief.clone(),
            step: StepBrief {
                channel,
                number,
                instructions: instructions.get_untracked(),
            },
            contact_id: sample.get_untracked().parse().ok(),
        };
        spawn_local(async move {
            match api::ai::generate_step_template(api, &request).await {
                Ok(r) => {
                    proposal.try_set(Some(r));
                }
                Err(e) => toasts.error(e.message()),
            }
            generating.try_set(false);
        });
    };
    let accept = move |_| {
        if let Some(p) = proposal.get_untracked() {
            if let Some(s) = p.draft.subject {
                subject.set(s);
            }
            body.set(p.draft.body);
            proposal.set(None);
        }
    };
    let insert_tag = move |tag: &str| {
        let tag = if LEAD_TAGS.contains(&tag) && tag != "email" && tag != "phone" {
            format!("{{{{{tag} | \"\"}}}}")
        } else {
            format!("{{{{{tag}}}}}")
        };
        body.update(|b| b.push_str(&tag));
    };

    // The live preview: the shared renderer, in the browser, for the chosen sample lead.
    let rendered = Memo::new(move |_| {
        let lead = contacts.get().and_then(|list| {
            let id = sample.get();
            list.into_iter().find(|c| c.id.to_string() == id)
        });
        let variant = slots.with(|v| {
            v.get(active.get())
                .map(|s| s.label.clone())
                .unwrap_or_default()
        });
        let shown = Shown {
            step: step_id,
            variant: &variant,
            subject: &subject.get(),
            body: &body.get(),
        };
        render_for(lead.as_ref(), &org_name, &shown)
    });
    let sms = Memo::new(move |_| match &rendered.get().1 {
        Ok((text, _)) => Some(sms_info(text)),
        Err(_) => None,
    });
    let delay_units: Vec<(String, String)> =
        [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    let disabled = Signal::derive(move || !editable);
    view! {
        <form class="card grid content-start gap-4 p-5" aria-label="Step editor" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <div class="flex items-center justify-between">
                <h2 class="font-semibold">{format!("Step {} · {}", step.position, channel.label())}</h2>
                <button type="button" class="btn-secondary" disabled=move || generating.get() || !editable on:click=generate>
                    <span inner_html=icons::SPARKLES></span>{move || if generating.get() { "Writing…" } else { "Generate with AI" }}
                </button>
            </div>
            {move || proposal.get().map(|p| view! {
                <div class="rounded-lg border border-accent-200 bg-accent-50 p-4" data-testid="ai-proposal">
                    <p class="mb-2 text-xs font-medium text-accent-700">{format!("Suggestion by {}", p.provenance.label)}</p>
                    {p.draft.subject.clone().map(|s| view! { <p class="text-sm font-semibold">{s}</p> })}
                    <pre class="mt-1 whitespace-pre-wrap font-sans text-sm">{p.draft.body.clone()}</pre>
                    <div class="mt-3 flex gap-2">
                        <button type="button" class="btn-primary" on:click=accept>"Use this"</button>
                        <button type="button" class="btn-ghost" on:click=move |_| proposal.set(None)>"Discard"</button>
                    </div>
                </div>
            })}
            <div class="grid gap-4 sm:grid-cols-2">
                <Field label=if step.position == 1 { "Start after" } else { "Wait" } name="delay" value=delay_value error=field_err(errs, "delay_minutes") disabled=disabled />
                <SelectField label="Unit" name="delay-unit" value=delay_unit options=delay_units disabled=disabled />
                {move || {
                    let mut options = vec![(String::new(), "Organization default".to_owned())];
                    options.extend(personas.get().unwrap_or_default().into_iter().map(|p| (p.id.to_string(), p.name)));
                    view! { <div class="sm:col-span-2"><SelectField label="Persona" name="step-persona" value=persona options=options error=field_err(errs, "persona_id") disabled=disabled /></div> }
                }}
            </div>
            <TextArea label="AI instructions" name="ai-instructions" value=instructions error=field_err(errs, "ai_instructions") rows=2 placeholder="e.g. Mention the spring market. Keep it under 80 words." disabled=disabled />
            <label class="flex items-center gap-2 text-sm"><input type="checkbox" prop:checked=move || personalize.get() on:change=move |ev| personalize.set(event_target_checked(&ev)) disabled=!editable />"Personalise each lead's message with AI"</label>
            {(channel == Channel::Email && step.position > 1).then(|| view! {
                <label class="flex items-start gap-2 text-sm">
                    <input type="checkbox" class="mt-1" prop:checked=move || reply.get() on:change=move |ev| reply.set(event_target_checked(&ev)) disabled=!editable />
                    <span>"Send as a reply"<span class="block text-xs text-muted">"The subject becomes “Re: ” and the subject of the lead's previous email, so it lands in the same conversation. The subject below is used only if the lead got no earlier email."</span></span>
                </label>
            })}
            <div class="flex flex-wrap items-center gap-1 border-b border-line" role="tablist" aria-label="Variants">
                {move || slots.get().into_iter().enumerate().map(|(i, v)| view! {
                    <button type="button" role="tab" aria-selected=move || (active.get() == i).to_string()
                        class=move || if active.get() == i { "-mb-px border-b-2 border-accent-600 px-3 py-1.5 text-sm font-medium text-accent-700" } else { "-mb-px border-b-2 border-transparent px-3 py-1.5 text-sm text-muted hover:text-ink" }
                        on:click=move |_| switch_to(i)>{format!("Variant {}", v.label)}</button>
                }).collect_view()}
                {editable.then(|| view! { <button type="button" class="btn-ghost px-2 py-1 text-xs" disabled=move || slots.with(|v| v.len() >= 6) on:click=add_variant>"+ Variant"</button> })}
                <span class="ml-auto"></span>
                <Show when=move || { slots.with(|v| v.len() > 1) }>
                    <div class="flex items-center gap-2 pb-1 text-xs">
                        <label for="field-variant-weight" class="text-muted">"Weight"</label>
                        <input id="field-variant-weight" class="field-input w-16 py-1" type="number" min="0" disabled=!editable prop:value=move || weight.get() on:input=move |ev| weight.set(event_target_value(&ev)) />
                        {move || (editable && active.get() > 0).then(|| view! { <button type="button" class="btn-ghost px-2 py-1 text-red-600" on:click=remove_variant>"Remove variant"</button> })}
                    </div>
                </Show>
            </div>
            {move || field_err(errs, "variants").get().or_else(|| errs.with(|e| e.iter().find(|(k, _)| k.starts_with("variants[")).map(|(k, v)| format!("{k}: {v}")))).map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            {(channel == Channel::Email).then(|| view! { <Field label="Subject" name="subject" value=subject error=field_err(errs, "subject") disabled=disabled /> })}
            <TextArea label="Message" name="body" value=body error=field_err(errs, "body") rows=10 disabled=disabled help="Merge tags like {{first_name | \"there\"}} use the fallback when a lead has no value; {Hi|Hello} picks one option per lead." />
            <div class="flex flex-wrap items-center gap-1.5" aria-label="Merge tags">
                <span class="text-xs text-muted">"Insert:"</span>
                {LEAD_TAGS.iter().chain(SENDER_TAGS).map(|t| { let t = *t; view! { <button type="button" class="rounded-full border border-line px-2 py-0.5 text-xs hover:border-accent-400 hover:text-accent-700" disabled=!editable on:click=move |_| insert_tag(t)>{t}</button> } }).collect_view()}
            </div>
            {(channel == Channel::Sms).then(|| view! {
                <p class="text-xs text-muted" data-testid="sms-counter">{move || sms.get().map(|i| format!("{} characters · {} segment{} · {}", i.units, i.segments, if i.segments == 1 { "" } else { "s" }, if i.encoding == SmsEncoding::Gsm7 { "GSM-7" } else { "Unicode (UCS-2): 70 per segment" })).unwrap_or_default()}</p>
                {move || sms.get().and_then(|i| {
                    if i.units > SMS_MAX_CHARS {
                        Some(view! { <p class="text-xs text-rose-700" role="alert">{format!("Too long: a text holds at most {SMS_MAX_CHARS} characters.")}</p> }.into_any())
                    } else if i.units > SMS_LONG_CHARS {
                        Some(view! { <p class="text-xs text-amber-700" data-testid="sms-long">{format!("Long text: over {SMS_LONG_CHARS} characters, it goes as {} segments, each billed.", i.segments)}</p> }.into_any())
                    } else {
                        None
                    }
                })}
            })}
            {(channel == Channel::Whatsapp).then(|| view! { <WhatsAppTemplateField templates chosen=wa_template errs editable /> })}
            {editable.then(|| view! { <div><button class="btn-primary" type="submit" disabled=move || save.pending().get()>{move || if save.pending().get() { "Saving…" } else { "Save step" }}</button></div> })}
        </form>
        <StepPreview channel=channel rendered=rendered contacts=contacts sample=sample personalize=personalize />
    }
}

/// A WhatsApp step's template: what goes to a lead whose 24-hour window has closed (Meta allows
/// only an approved template then), each variable filled from merge tags.
#[component]
fn WhatsAppTemplateField(
    templates: LocalResource<Result<Vec<WhatsAppTemplate>, crate::api::ApiError>>,
    chosen: RwSignal<Option<WhatsAppContent>>,
    errs: FieldErrs,
    editable: bool,
) -> impl IntoView {
    let error = Signal::derive(move || {
        errs.with(|e| {
            e.iter()
                .find(|(k, _)| k.starts_with("whatsapp_template"))
                .map(|(k, v)| match k.rsplit_once('.') {
                    Some((_, var)) if k.contains(".variables.") => format!("{{{{{var}}}}} {v}"),
                    _ => v.clone(),
                })
        })
    });
    view! {
        <fieldset class="grid gap-3 rounded-lg border border-line p-4" data-testid="whatsapp-template">
            <legend class="px-1 text-sm font-semibold">"Outside the 24-hour window"</legend>
            <p class="text-xs text-muted">"Leads who have not written on WhatsApp in the last 24 hours can only get an approved template. Without one, this step is skipped for them (and their next steps go on)."</p>
            <Suspense fallback=|| view! { <p class="text-sm text-muted">"Loading the templates…"</p> }>
                {move || templates.get().map(|r| match r {
                    Err(e) => view! { <p class="text-sm text-red-700" role="alert">{e.message()}</p> }.into_any(),
                    Ok(mut all) => {
                        // The step's template stays shown even when the listing lacks it.
                        if let Some(saved) = chosen.get_untracked().filter(|c| !all.iter().any(|t| t.sid == c.sid)) {
                            all.insert(0, WhatsAppTemplate {
                                account_id: PhoneAccountId(uuid::Uuid::nil()),
                                status: "not listed".into(),
                                rejection_reason: None,
                                sandbox: false,
                                sid: saved.sid,
                                name: saved.name,
                                language: saved.language,
                                category: saved.category,
                                body: saved.body,
                                variables: saved.variables,
                            });
                        }
                        let listed = all.clone();
                        view! {
                            <label for="field-wa-template" class="field-label">"Template"</label>
                            <select id="field-wa-template" class="field-input" disabled=!editable on:change=move |ev| {
                                let sid = event_target_value(&ev);
                                chosen.set(listed.iter().find(|t| t.sid == sid).map(|t| {
                                    // Each variable starts from a sensible merge tag.
                                    let vars = aura_types::content_placeholders(&t.body).into_iter().enumerate()
                                        .map(|(i, n)| (n, if i == 0 { "{{first_name | \"there\"}}".to_owned() } else { "{{org.name}}".to_owned() }))
                                        .collect();
                                    t.chosen(vars)
                                }));
                            }>
                                <option value="" selected=move || chosen.with(Option::is_none)>"No template: skip leads outside the window"</option>
                                {all.iter().map(|t| {
                                    let sid = t.sid.clone();
                                    let label = format!("{} · {} · {}{}", t.name, t.language, t.status,
                                        if t.category.eq_ignore_ascii_case("marketing") { " · marketing" } else { "" });
                                    let current = chosen.with_untracked(|c| c.as_ref().is_some_and(|c| c.sid == sid));
                                    view! { <option value=t.sid.clone() disabled=!t.approved() && !current selected=move || chosen.with(|c| c.as_ref().is_some_and(|c| c.sid == sid))>{label}</option> }
                                }).collect_view()}
                            </select>
                            {all.is_empty().then(|| view! { <p class="text-xs text-muted">"No templates yet: create one in Twilio's Content Template Builder and submit it to WhatsApp."</p> })}
                        }.into_any()
                    }
                })}
            </Suspense>
            {move || chosen.get().map(|t| {
                let names = aura_types::content_placeholders(&t.body);
                view! {
                    <p class="rounded-2xl rounded-bl-sm bg-emerald-50 p-3 text-sm whitespace-pre-wrap">{t.body.clone()}</p>
                    {t.is_marketing().then(|| view! { <p class="text-xs text-amber-700">"A marketing template: Meta does not deliver these to US (+1) numbers."</p> })}
                    <div class="grid gap-2 sm:grid-cols-2">
                        {names.into_iter().map(|name| {
                            let field = format!("field-wa-var-{name}");
                            let key = name.clone();
                            let key2 = name.clone();
                            view! {
                                <div>
                                    <label for=field.clone() class="field-label">{format!("{{{{{name}}}}} is")}</label>
                                    <input id=field class="field-input" disabled=!editable
                                        prop:value=move || chosen.with(|c| c.as_ref().and_then(|c| c.variables.get(&key).cloned()).unwrap_or_default())
                                        on:input=move |ev| { let v = event_target_value(&ev); chosen.update(|c| if let Some(c) = c { c.variables.insert(key2.clone(), v); }); } />
                                </div>
                            }
                        }).collect_view()}
                    </div>
                }
            })}
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </fieldset>
    }
}
