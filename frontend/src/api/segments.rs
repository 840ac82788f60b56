//! Segments and their members.

use super::{Api, ApiResult};
use aura_types::*;

pub async fn list(api: Api) -> ApiResult<Vec<Segment>> {
    api.get("/segments").await
}

pub async fn create(api: Api, input: &SegmentInput) -> ApiResult<Segment> {
    api.post("/segments", input).await
}

pub async fn delete(api: Api, id: SegmentId) -> ApiResult<()> {
    api.delete(&format!("/segments/{id}")).await
}

pub async fn preview(api: Api, req: &PreviewRequest) -> ApiResult<SegmentPreview> {
    api.post("/segments/preview", req).await
}

/// Adds contacts to a static list (`remove`: takes them out).
pub async fn members(
    api: Api,
    id: SegmentId,
    req: &MembersRequest,
    remove: bool,
) -> ApiResult<MembersResult> {
    let path = if remove {
        format!("/segments/{id}/members/remove")
    } else {
        format!("/segments/{id}/members")
    };
    api.post(&path, req).await
}
