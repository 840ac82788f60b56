//! Campaigns: the list, and an open campaign's builder with its tabs (steps and their editor and
//! preview, audience, review, delivery, settings), one file each.

mod audience;
mod builder;
mod delivery;
mod list;
mod preview;
mod review;
mod settings;
mod step_editor;
mod steps;

pub use builder::{AudienceTab, CampaignBuilderPage, DeliveryTab, ReviewTab, SettingsTab};
pub use list::CampaignsPage;
pub use steps::{wait_label, StepsTab};
