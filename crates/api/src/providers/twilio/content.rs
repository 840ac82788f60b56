//! Twilio's Content API: the account's content templates with their WhatsApp approval, listed
//! from `GET /v1/ContentAndApprovals` on the Content API's own host (configurable, as the
//! Messaging API's is). Each template's text is in its `types` (`twilio/text`'s `body`, or the
//! `body` of a richer type); its variables (`{"1": "sample"}`) are named `{{1}}` in that text;
//! `approval_requests` holds WhatsApp's answer (status approved / pending / rejected / …, Meta's
//! category, the rejection's reason). Pages are followed through `meta.next_page_url`.

use super::{Credentials, Twilio, TwilioError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A template as the Content API describes it (only what Aura reads).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Content {
    pub sid: String,
    #[serde(default)]
    pub friendly_name: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub types: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub approval_requests: Option<Approval>,
}

/// WhatsApp's answer to a template.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Approval {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub rejection_reason: String,
}

impl Content {
    /// The template as Aura shows it, for the account it was listed from.
    pub fn template(&self, account: aura_types::PhoneAccountId) -> aura_types::WhatsAppTemplate {
        let approval = self.approval_requests.clone().unwrap_or_default();
        aura_types::WhatsAppTemplate {
            account_id: account,
            sid: self.sid.clone(),
            name: if self.friendly_name.is_empty() {
                approval.name.clone()
            } else {
                self.friendly_name.clone()
            },
            language: self.language.clone(),
            category: approval.category.to_ascii_uppercase(),
            status: if approval.status.is_empty() {
                "unsubmitted".to_owned()
            } else {
                approval.status.to_ascii_lowercase()
            },
            rejection_reason: Some(approval.rejection_reason).filter(|r| !r.trim().is_empty()),
            body: self.body(),
            variables: self.variables.clone(),
            sandbox: false,
        }
    }

    /// The template's text: `twilio/text`'s body, else the first type's that has one.
    pub fn body(&self) -> String {
        let of = |v: &serde_json::Value| v.get("body").and_then(|b| b.as_str()).map(str::to_owned);
        self.types
            .get("twilio/text")
            .and_then(of)
            .or_else(|| self.types.values().find_map(of))
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct Page {
    contents: Vec<Content>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    next_page_url: Option<String>,
}

/// The most pages read (of 100 templates each).
const MAX_PAGES: usize = 10;

impl Twilio {
    /// The account's content templates with their WhatsApp approval.
    pub async fn templates(&self, creds: &Credentials) -> Result<Vec<Content>, TwilioError> {
        let mut url = self
            .content_base
            .join("/v1/ContentAndApprovals?PageSize=100")
            .map_err(|e| TwilioError::NotSent(format!("bad Twilio Content URL: {e}")))?;
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let request = self.client.get(url.clone());
            let page: Page = self.call(request, &url, creds).await?;
            all.extend(page.contents);
            // The next page's address names Twilio's host: its path and query are asked of the
            // configured one (so a stand-in, or a proxy, is followed too).
            let Some(next) = page
                .meta
                .and_then(|m| m.next_page_url)
                .and_then(|n| url::Url::parse(&n).ok())
            else {
                break;
            };
            let mut following = self.content_base.clone();
            following.set_path(next.path());
            following.set_query(next.query());
            url = following;
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_documented_listing_is_read() {
        // The shape of Twilio's ContentAndApprovals answer (its helper libraries' fixtures).
        let page: Page = serde_json::from_str(
            r#"{"contents": [
                {"date_created": "2023-01-13T23:33:46Z", "date_updated": "2023-01-13T23:33:46Z",
                 "sid": "HX5fcd48a417c1cb59da349ad6d5da4607", "account_sid": "AC25c0bd3b5bb8e2c1a8ae9fd7bd8a1bb7",
                 "friendly_name": "Media Test", "language": "en",
                 "variables": {"1": "name", "2": "typedocument"},
                 "types": {"twilio/media": {"body": "{{1}}, Congratulations {{2}}!", "media": ["https://example.com/template"]}},
                 "approval_requests": {"name": "Media Test", "category": "TRANSACTIONAL", "content_type": "twilio/media",
                                       "status": "approved", "rejection_reason": "", "allow_category_change": false}},
                {"sid": "HX6fcd48a417c1cb59da349ad6d5da4607", "friendly_name": "Plain", "language": "en",
                 "variables": {}, "types": {"twilio/text": {"body": "Hello"}},
                 "approval_requests": {"name": "", "category": "", "content_type": "twilio/text",
                                       "status": "unsubmitted", "rejection_reason": ""}}],
               "meta": {"page": 0, "page_size": 20, "first_page_url": "https://content.twilio.com/v1/ContentAndApprovals?PageSize=20&Page=0",
                        "previous_page_url": null, "next_page_url": null,
                        "url": "https://content.twilio.com/v1/ContentAndApprovals?PageSize=20&Page=0", "key": "contents"}}"#,
        )
        .unwrap();
        assert_eq!(page.contents.len(), 2);
        let media = &page.contents[0];
        assert_eq!(media.body(), "{{1}}, Congratulations {{2}}!");
        assert_eq!(media.approval_requests.as_ref().unwrap().status, "approved");
        assert_eq!(page.contents[1].body(), "Hello");
        assert!(page.meta.unwrap().next_page_url.is_none());
    }
}
