//! The one pagination convention every growing list follows: ask with [`PageQuery`] (`limit`,
//! `cursor`), answer with [`Page`] (`items`, `total`, `next_cursor`). A cursor is opaque to
//! clients: pass back the `next_cursor` a page gave, never build one.

use serde::{Deserialize, Serialize};

/// Items a list answers when the caller names no `limit`, and the most it answers.
pub const PAGE_DEFAULT: u32 = 50;
pub const PAGE_MAX: u32 = 200;

/// Where the next page starts, as the list that gave it out encodes it (a keyset list, the last
/// item's id; an offset list, the next position). Only that list reads it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Cursor(pub String);

impl Cursor {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A page of a list and how many items the whole list holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items matching the request in all, on every page.
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// The page after position `offset` of a list read by position: `items` are the ones from
    /// `offset` on, and there is a next page when they stop short of `total`.
    pub fn at_offset(items: Vec<T>, total: i64, offset: i64) -> Self {
        let end = offset.saturating_add(i64::try_from(items.len()).unwrap_or(i64::MAX));
        let next_cursor = (!items.is_empty() && end < total).then(|| Cursor(end.to_string()));
        Page {
            items,
            total,
            next_cursor,
        }
    }

    /// A page of a keyset list: `items` were read with one more row than `limit`, so a next page
    /// exists exactly when that row came back; its cursor is the last kept item's key.
    pub fn keyset<K: std::fmt::Display>(
        mut items: Vec<T>,
        total: i64,
        limit: u32,
        key: impl Fn(&T) -> K,
    ) -> Self {
        let limit = limit as usize;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|i| Cursor(key(i).to_string()))
        } else {
            None
        };
        Page {
            items,
            total,
            next_cursor,
        }
    }
}

/// Which page of a list: at most `limit` items (1–200, default 50), from `cursor` (the start
/// when absent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "server",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
pub struct PageQuery {
    /// 1–200, default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<String>))]
    pub cursor: Option<Cursor>,
}

/// Why a [`PageQuery`] cannot be answered; each names the parameter at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageQueryError {
    Limit,
    Cursor,
}

impl PageQueryError {
    pub fn field(self) -> &'static str {
        match self {
            PageQueryError::Limit => "limit",
            PageQueryError::Cursor => "cursor",
        }
    }

    pub fn message(self) -> String {
        match self {
            PageQueryError::Limit => format!("must be a number from 1 to {PAGE_MAX}"),
            PageQueryError::Cursor => "is not a cursor from a previous page of this list".into(),
        }
    }
}

impl PageQuery {
    pub fn first(limit: u32) -> Self {
        PageQuery {
            limit: Some(limit),
            cursor: None,
        }
    }

    /// The number of items asked for, checked against [`PAGE_MAX`].
    pub fn limit(&self) -> Result<u32, PageQueryError> {
        match self.limit {
            None => Ok(PAGE_DEFAULT),
            Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
            Some(_) => Err(PageQueryError::Limit),
        }
    }

    /// The position a list read by position starts at (0 without a cursor).
    pub fn offset(&self) -> Result<i64, PageQueryError> {
        match &self.cursor {
            None => Ok(0),
            Some(c) => {
                c.0.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or(PageQueryError::Cursor)
            }
        }
    }

    /// The key a keyset list continues after (`None` without a cursor).
    pub fn after<K: std::str::FromStr>(&self) -> Result<Option<K>, PageQueryError> {
        match self
            .cursor
            .as_ref()
            .map(|c| c.0.trim())
            .filter(|c| !c.is_empty())
        {
            None => Ok(None),
            Some(c) => c.parse().map(Some).map_err(|_| PageQueryError::Cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_pages_end_at_the_total() {
        let p = Page::at_offset(vec![1, 2], 5, 0);
        assert_eq!(p.next_cursor, Some(Cursor("2".into())));
        let q = PageQuery {
            limit: Some(2),
            cursor: p.next_cursor,
        };
        assert_eq!(q.offset(), Ok(2));
        assert_eq!(Page::at_offset(vec![5], 5, 4).next_cursor, None);
        assert_eq!(Page::<i32>::at_offset(vec![], 5, 9).next_cursor, None);
    }

    #[test]
    fn keyset_pages_keep_the_limit_and_point_past_the_last_kept() {
        let p = Page::keyset(vec![10, 20, 30], 3, 2, |n| *n);
        assert_eq!(p.items, vec![10, 20]);
        assert_eq!(p.next_cursor, Some(Cursor("20".into())));
        let last = Page::keyset(vec![30], 3, 2, |n| *n);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn limits_and_cursors_are_checked() {
        assert_eq!(PageQuery::default().limit(), Ok(PAGE_DEFAULT));
        assert_eq!(PageQuery::first(0).limit(), Err(PageQueryError::Limit));
        assert_eq!(
            PageQuery::first(PAGE_MAX + 1).limit(),
            Err(PageQueryError::Limit)
        );
        assert_eq!(PageQuery::first(PAGE_MAX).limit(), Ok(PAGE_MAX));
        let bad = PageQuery {
            limit: None,
            cursor: Some(Cursor("x".into())),
        };
        assert_eq!(bad.offset(), Err(PageQueryError::Cursor));
        let negative = PageQuery {
            limit: None,
            cursor: Some(Cursor("-5".into())),
        };
        assert_eq!(negative.offset(), Err(PageQueryError::Cursor));
        assert_eq!(bad.after::<uuid::Uuid>(), Err(PageQueryError::Cursor));
        assert_eq!(PageQuery::default().after::<uuid::Uuid>(), Ok(None));
    }
}
