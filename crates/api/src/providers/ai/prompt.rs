//! How an [`AiTask`] is put to a chat model: the persona's system prompt plus the answer format,
//! and a user message with the task and its context.

use aura_types::ai::{AiOperation, AiTask, Direction};
use std::fmt::Write;

pub fn system(task: &AiTask) -> String {
    let format = match task.operation {
        AiOperation::GenerateStepTemplate
        | AiOperation::GenerateMessageForLead
        | AiOperation::ImproveMessage => {
            "{\"subject\": \"…\", \"body\": \"…\"} (omit \"subject\" for WhatsApp and SMS; a subject has at most 150 characters)"
        }
        AiOperation::SuggestReplies => "{\"replies\": [\"…\", \"…\", \"…\"]} (at most 3 replies, best first)",
        AiOperation::ClassifyReply => {
            "{\"label\": one of \"interested\", \"meeting_request\", \"not_interested\", \"wrong_person\", \"question\", \"out_of_office\", \"bounce\", \"unsubscribe\", \"other\", \"confidence\": 0 to 1, \"reason\": \"one short sentence\"}"
        }
        AiOperation::TestConnection => "{\"body\": \"OK\"}",
    };
    format!(
        "{}\n\nYou are writing for {}. Answer with one JSON object and nothing else, in this shape: {format}",
        task.persona.system_prompt.trim(),
        "Aura, an outreach tool"
    )
}

pub fn user(task: &AiTask) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Task: {}", task.instructions);
    if let Some(c) = &task.campaign {
        let _ = writeln!(
            out,
            "\nCampaign: {}\nOffer: {}\nIdeal customer: {}\nGoal: {}",
            c.name, c.offer, c.icp, c.goal
        );
    }
    if let Some(s) = &task.step {
        let _ = writeln!(out, "\nStep {} on {}.", s.number, s.channel.label());
        if !s.instructions.trim().is_empty() {
            let _ = writeln!(out, "Step instructions: {}", s.instructions.trim());
        }
    }
    if !task.lead.is_empty() {
        let _ = writeln!(out, "\nLead:");
        for (k, v) in &task.lead {
            let _ = writeln!(out, "- {k}: {v}");
        }
    }
    if task.use_merge_tags {
        let _ = writeln!(
            out,
            "\nWrite a template: use merge tags instead of the lead's details, each with a fallback, e.g. {{{{first_name | \"there\"}}}}. Allowed tags: {}.",
            task.merge_tags.join(", ")
        );
    } else if matches!(task.operation, AiOperation::GenerateMessageForLead) {
        let _ = writeln!(
            out,
            "\nWrite the final message for this lead, with their details filled in."
        );
    }
    if let Some(goal) = task.goal {
        let _ = writeln!(
            out,
            "\nGoal of the rewrite: {}.",
            goal.label().to_lowercase()
        );
    }
    if let Some(subject) = &task.subject {
        let _ = writeln!(out, "\nSubject:\n{subject}");
    }
    if let Some(text) = &task.text {
        let _ = writeln!(out, "\nText:\n{text}");
    }
    if let Some(original) = &task.original_outreach {
        let _ = writeln!(out, "\nOur message they replied to:\n{original}");
    }
    if !task.conversation.is_empty() {
        let _ = writeln!(out, "\nConversation (oldest first):");
        for m in &task.conversation {
            let who = match m.direction {
                Direction::Inbound => "Lead",
                Direction::Outbound => "Us",
            };
            let _ = writeln!(out, "{who}: {}", m.text);
        }
    }
    if !task.knowledge.is_empty() {
        let _ = writeln!(out, "\nFacts you may use (do not invent others):");
        for k in &task.knowledge {
            let _ = writeln!(out, "## {}\n{}", k.title, k.content);
        }
    }
    if let Some(c) = &task.correction {
        let _ = writeln!(out, "\nYour previous answer could not be used: {c}. Answer again, following the format exactly.");
    }
    out
}
