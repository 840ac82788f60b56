//! Segments: the list with live sizes, and the rule builder with a live count.

use crate::api;
use crate::{
    components::{on_result, EmptyState, ErrorCard, LoadingCard, PageHeader},
    icons,
    state::{use_api, use_toasts},
};
use aura_types::{
    ContactStatus, DateField, DateOp, IsOp, PreviewRequest, Rule, ScoreOp, SegmentInput,
    SegmentKind, TagOp, TextField, TextOp,
};
use leptos::{prelude::*, task::spawn_local};

/// One condition row of the builder, as the person edits it.
#[derive(Clone, Debug, PartialEq)]
struct Condition {
    kind: String,
    field: String,
    op: String,
    value: String,
}

impl Condition {
    fn new() -> Self {
        Condition {
            kind: "tag".into(),
            field: String::new(),
            op: "has".into(),
            value: String::new(),
        }
    }

    fn to_rule(&self) -> Option<Rule> {
        Some(match self.kind.as_str() {
            "text" => Rule::Text {
                field: TextField::parse(&self.field)?,
                op: TextOp::parse(&self.op)?,
                value: self.value.clone(),
            },
            "tag" => Rule::Tag {
                op: TagOp::parse(&self.op)?,
                tag: self.value.trim().to_lowercase(),
            },
            "status" => Rule::Status {
                op: IsOp::parse(&self.op)?,
                value: ContactStatus::parse(&self.value)?,
            },
            "score" => Rule::Score {
                op: ScoreOp::parse(&self.op)?,
                value: self.value.trim().parse().ok()?,
            },
            "replied" => Rule::Date {
                field: DateField::LastRepliedAt,
                op: DateOp::parse(&self.op)?,
                at: None,
                days: self.value.trim().parse().ok(),
            },
            _ => return None,
        })
    }
}

fn ops_for(kind: &str) -> Vec<(&'static str, &'static str)> {
    match kind {
        "text" => TextOp::ALL
            .iter()
            .map(|o| (o.as_str(), o.label()))
            .collect(),
        "tag" => TagOp::ALL.iter().map(|o| (o.as_str(), o.label())).collect(),
        "status" => IsOp::ALL.iter().map(|o| (o.as_str(), o.label())).collect(),
        "score" => ScoreOp::ALL
            .iter()
            .map(|o| (o.as_str(), o.label()))
            .collect(),
        _ => vec![
            ("within_last_days", "in the last … days"),
            ("more_than_days_ago", "more than … days ago"),
            ("is_empty", "never"),
            ("is_not_empty", "at any time"),
        ],
    }
}

#[component]
pub fn SegmentsPage() -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let segments = LocalResource::new(move || async move { api::segments::list(api).await });
    let name = RwSignal::new(String::new());
    let any = RwSignal::new(false);
    let conditions = RwSignal::new(vec![Condition::new()]);
    let count = RwSignal::new(None::<Result<i64, String>>);
    let rules = Memo::new(move |_| {
        let list: Vec<Rule> = conditions
            .get()
            .iter()
            .filter_map(Condition::to_rule)
            .collect();
        if any.get() {
            Rule::Any { rules: list }
        } else {
            Rule::All { rules: list }
        }
    });
    Effect::new(move |_| {
        let rules = rules.get();
        spawn_local(async move {
            let r = api::segments::preview(api, &PreviewRequest { rules }).await;
            count.set(Some(r.map(|p| p.count).map_err(|e| {
                e.fields()
                    .into_values()
                    .next()
                    .unwrap_or_else(|| e.message())
            })));
        });
    });
    let save = Action::new_local(move |input: &SegmentInput| {
        let input = input.clone();
        async move { api::segments::create(api, &input).await }
    });
    on_result(save, move |r| match r {
        Ok(s) => {
            toasts.success(format!(
                "Segment “{}” saved with {} contacts.",
                s.name, s.member_count
            ));
            name.set(String::new());
            segments.refetch();
        }
        Err(e) => toasts.error(
            e.fields()
                .into_values()
                .next()
                .map(|f| format!("{}: {f}", e.message()))
                .unwrap_or_else(|| e.message()),
        ),
    });
    let remove = Action::new_local(move |id: &aura_types::SegmentId| {
        let id = *id;
        async move { api::segments::delete(api, id).await }
    });
    on_result(remove, move |r| match r {
        Ok(()) => segments.refetch(),
        Err(e) => toasts.error(e.message()),
    });
    let list_name = RwSignal::new(String::new());
    let create_list = Action::new_local(move |name: &String| {
        let input = SegmentInput {
            name: name.clone(),
            description: None,
            kind: SegmentKind::Static,
            rules: None,
        };
        async move { api::segments::create(api, &input).await }
    });
    on_result(create_list, move |r| match r {
        Ok(s) => {
            toasts.success(format!(
                "List “{}” created. Add contacts to it from the Contacts page.",
                s.name
            ));
            list_name.set(String::new());
            segments.refetch();
        }
        Err(e) => toasts.error(
            e.fields()
                .into_values()
                .next()
                .map(|f| format!("{}: {f}", e.message()))
                .unwrap_or_else(|| e.message()),
        ),
    });
    let kinds = [
        ("tag", "Tag"),
        ("text", "Field"),
        ("status", "Status"),
        ("score", "Intent score"),
        ("replied", "Last replied"),
    ];
    view! {
        <PageHeader title="Segments" subtitle="Audiences for campaigns: saved rules that stay up to date, or hand-picked lists." crumbs=vec![("Segments", "/segments")] />
        <div class="grid gap-6 lg:grid-cols-[1fr_22rem]">
            <section class="card p-6" aria-label="Rule builder">
                <h2 class="text-sm font-semibold">"New dynamic segment"</h2>
                <div class="mt-4 flex flex-wrap items-center gap-2 text-sm">
                    "Contacts matching"
                    <select class="field-input w-auto" aria-label="Match" on:change=move |ev| any.set(event_target_value(&ev) == "any")>
                        <option value="all">"all"</option><option value="any">"any"</option>
                    </select>
                    "of these rules:"
                </div>
                <div class="mt-4 space-y-3">
                    {move || conditions.get().into_iter().enumerate().map(|(i, c)| {
                        let set = move |f: fn(&mut Condition, String)| move |ev: leptos::ev::Event| { let v = event_target_value(&ev); conditions.update(|all| if let Some(c) = all.get_mut(i) { f(c, v) }) };
                        let ops = ops_for(&c.kind);
                        let (kind, op, field, value) = (c.kind.clone(), c.op.clone(), c.field.clone(), c.value.clone());
                        view! {
                            <div class="flex flex-wrap items-center gap-2" data-testid="rule-row">
                                <select class="field-input w-40" aria-label="Rule kind" on:change=set(|c, v| { c.op = ops_for(&v)[0].0.to_owned(); c.field = if v == "text" { "city".into() } else { String::new() }; c.value = if v == "status" { "active".into() } else { String::new() }; c.kind = v; })>
                                    {kinds.iter().map(|(k, l)| view! { <option value=*k selected=kind == *k>{*l}</option> }).collect_view()}
                                </select>
                                <Show when={ let kind = kind.clone(); move || kind == "text" }>
                                    <select class="field-input w-36" aria-label="Field" on:change=set(|c, v| c.field = v)>
                                        {TextField::ALL.iter().map(|f| view! { <option value=f.as_str() selected=field == f.as_str()>{f.label()}</option> }).collect_view()}
                                    </select>
                                </Show>
                                <select class="field-input w-44" aria-label="Comparison" on:change=set(|c, v| c.op = v)>
                                    {ops.into_iter().map(|(k, l)| view! { <option value=k selected=op == k>{l}</option> }).collect_view()}
                                </select>
                                {if kind == "status" {
                                    view! { <select class="field-input w-40" aria-label="Value" on:change=set(|c, v| c.value = v)>{ContactStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=value == s.as_str()>{s.label()}</option> }).collect_view()}</select> }.into_any()
                                } else {
                                    view! { <input class="field-input w-44" aria-label="Value" prop:value=value on:change=set(|c, v| c.value = v) /> }.into_any()
                                }}
                                <button class="btn-ghost" aria-label="Remove rule" on:click=move |_| conditions.update(|all| { all.remove(i); }) inner_html=icons::X></button>
                            </div>
                        }
                    }).collect_view()}
                </div>
                <button class="btn-secondary mt-4" on:click=move |_| conditions.update(|all| all.push(Condition::new()))><span inner_html=icons::PLUS></span>"Add rule"</button>
                <div class="mt-6 flex flex-wrap items-end gap-3 border-t border-line pt-6">
                    <div class="flex-1">
                        <label class="field-label" for="segment-name">"Segment name"</label>
                        <input id="segment-name" class="field-input" placeholder="e.g. Hot buyers in Dubai" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    </div>
                    <button class="btn-primary" disabled=move || name.get().trim().is_empty() on:click=move |_| {
                        save.dispatch(SegmentInput { name: name.get_untracked(), description: None, kind: SegmentKind::Dynamic, rules: Some(rules.get_untracked()) });
                    }>"Save segment"</button>
                </div>
            </section>
            <aside class="card h-fit p-6" aria-live="polite">
                <p class="text-sm text-muted">"Matching contacts now"</p>
                <p class="mt-1 text-4xl font-semibold tabular-nums" data-testid="segment-count">
                    {move || match count.get() { None => "…".to_owned(), Some(Ok(n)) => n.to_string(), Some(Err(_)) => "—".to_owned() }}
                </p>
                {move || count.get().and_then(Result::err).map(|e| view! { <p class="field-error mt-2">{e}</p> })}
            </aside>
        </div>
        <form class="card mt-6 flex flex-wrap items-end gap-3 p-6" on:submit=move |ev| { ev.prevent_default(); create_list.dispatch(list_name.get_untracked()); }>
            <div class="flex-1">
                <label class="field-label" for="list-name">"New static list"</label>
                <input id="list-name" class="field-input" placeholder="e.g. VIP sellers" prop:value=move || list_name.get() on:input=move |ev| list_name.set(event_target_value(&ev)) />
                <p class="field-help">"Hand-picked members: select contacts on the Contacts page and add them to the list."</p>
            </div>
            <button class="btn-secondary" type="submit" disabled=move || list_name.get().trim().is_empty()>"Create list"</button>
        </form>
        <h2 class="mb-3 mt-10 text-sm font-semibold">"Saved segments"</h2>
        <Transition fallback=|| view! { <LoadingCard rows=3 /> }>
            {move || segments.get().map(|r| match r {
                Err(e) => view! { <ErrorCard message=e.message() /> }.into_any(),
                Ok(list) if list.is_empty() => view! { <EmptyState icon=icons::USERS title="No segments yet" body="Build rules above and save them: the segment stays up to date as contacts change, and campaigns can enroll it." /> }.into_any(),
                Ok(list) => view! {
                    <div class="card divide-y divide-line">
                        {list.into_iter().map(|s| {
                            let id = s.id;
                            view! {
                                <div class="flex items-center justify-between px-5 py-4">
                                    <div>
                                        <a class="font-medium hover:underline" href=format!("/contacts?segment_id={id}")>{s.name.clone()}</a>
                                        <p class="text-xs text-muted">{s.kind.label()}</p>
                                    </div>
                                    <div class="flex items-center gap-4">
                                        <span class="badge bg-accent-50 text-accent-700 ring-accent-200 tabular-nums">{format!("{} contacts", s.member_count)}</span>
                                        <button class="btn-ghost" on:click=move |_| { remove.dispatch(id); }>"Delete"</button>
                                    </div>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}
