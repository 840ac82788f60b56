//! Send windows: which moments lie inside a campaign's days and hours in a lead's own time zone,
//! and the next such moment. Daylight-saving changes are handled on the wall clock: a window
//! that starts in a skipped hour opens when the clock resumes; in a repeated hour the earliest
//! moment still to come counts.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::str::FromStr;
use time::OffsetDateTime;

/// Days and local hours when messages may go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub days: Vec<i16>,
    pub start: time::Time,
    pub end: time::Time,
}

/// The lead's time zone, or the campaign's when the lead has none (or an unknown one).
pub fn zone(lead: Option<&str>, campaign: &str) -> Tz {
    lead.and_then(|z| Tz::from_str(z.trim()).ok())
        .or_else(|| Tz::from_str(campaign).ok())
        .unwrap_or(Tz::UTC)
}

pub(crate) fn to_chrono(t: OffsetDateTime) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(t.unix_timestamp(), t.nanosecond())
        .single()
        .unwrap_or_default()
}

pub(crate) fn from_chrono(t: chrono::DateTime<Utc>) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map(|s| s + time::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos())))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn naive_time(t: time::Time) -> NaiveTime {
    NaiveTime::from_hms_opt(
        u32::from(t.hour()),
        u32::from(t.minute()),
        u32::from(t.second()),
    )
    .unwrap_or_default()
}

impl Window {
    /// Whether `at` is inside the window on the wall clock of `tz`.
    pub fn contains(&self, at: OffsetDateTime, tz: Tz) -> bool {
        let local = to_chrono(at).with_timezone(&tz);
        let day = i16::try_from(local.weekday().number_from_monday()).unwrap_or(0);
        let wall = NaiveTime::from_hms_opt(local.hour(), local.minute(), local.second())
            .unwrap_or_default();
        self.days.contains(&day) && wall >= naive_time(self.start) && wall < naive_time(self.end)
    }

    /// `now` when it is inside the window, else the next moment that is (within two weeks);
    /// `None` when the window never opens (no days).
    pub fn next_open(&self, now: OffsetDateTime, tz: Tz) -> Option<OffsetDateTime> {
        if self.contains(now, tz) {
            return Some(now);
        }
        let now_c = to_chrono(now);
        let today = now_c.with_timezone(&tz).date_naive();
        (0..15)
            .filter_map(|i| today.checked_add_days(chrono::Days::new(i)))
            .filter(|d| {
                let n = i16::try_from(d.weekday().number_from_monday()).unwrap_or(0);
                self.days.contains(&n)
            })
            .find_map(|d| self.opening_on(d, tz, now_c))
            .map(from_chrono)
    }

    /// The first moment after `now` on local day `d` at or after the window's start that is
    /// inside the window.
    fn opening_on(
        &self,
        d: NaiveDate,
        tz: Tz,
        now: chrono::DateTime<Utc>,
    ) -> Option<chrono::DateTime<Utc>> {
        let start = NaiveDateTime::new(d, naive_time(self.start));
        // A start in a skipped hour: the first existing minute after it (gaps are at most a few
        // hours in the time zone database).
        let candidates = (0..=240).find_map(|m| {
            let wall = start + chrono::Duration::minutes(m);
            match tz.from_local_datetime(&wall) {
                chrono::LocalResult::Single(t) => Some(vec![t]),
                chrono::LocalResult::Ambiguous(a, b) => Some(vec![a, b]),
                chrono::LocalResult::None => None,
            }
        })?;
        candidates
            .into_iter()
            .map(|t| t.with_timezone(&Utc))
            .find(|t| *t > now && self.contains(from_chrono(*t), tz))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use time::macros::{datetime, time};

    fn nine_to_five() -> Window {
        Window {
            days: vec![1, 2, 3, 4, 5],
            start: time!(09:00),
            end: time!(17:00),
        }
    }

    #[test]
    fn inside_the_window_is_now_and_outside_is_the_next_opening() {
        let w = nine_to_five();
        let ny = zone(Some("America/New_York"), "UTC");
        // Monday 2026-11-23 15:00 UTC = 10:00 in New York.
        let now = datetime!(2026-11-23 15:00 UTC);
        assert_eq!(w.next_open(now, ny), Some(now));
        // 23:00 UTC = 18:00 New York → Tuesday 09:00 New York = 14:00 UTC.
        assert_eq!(
            w.next_open(datetime!(2026-11-23 23:00 UTC), ny),
            Some(datetime!(2026-11-24 14:00 UTC))
        );
        // Friday evening → Monday morning.
        assert_eq!(
            w.next_open(datetime!(2026-11-27 23:00 UTC), ny),
            Some(datetime!(2026-11-30 14:00 UTC))
        );
        // The same moment is inside the window for a lead in Berlin (16:00) but not in Tokyo.
        let now = datetime!(2026-11-23 15:00 UTC);
        assert!(w.contains(now, zone(Some("Europe/Berlin"), "UTC")));
        assert!(!w.contains(now, zone(Some("Asia/Tokyo"), "UTC")));
    }

    #[test]
    fn a_lead_without_a_known_zone_uses_the_campaigns() {
        assert_eq!(zone(None, "Europe/Paris"), Tz::Europe__Paris);
        assert_eq!(
            zone(Some("Mars/Olympus"), "Europe/Paris"),
            Tz::Europe__Paris
        );
        assert_eq!(zone(Some(" Asia/Tokyo "), "Europe/Paris"), Tz::Asia__Tokyo);
    }

    #[test]
    fn a_window_starting_in_the_skipped_hour_opens_when_the_clock_resumes() {
        // Europe/Berlin skips 02:00–03:00 on Sunday 2026-03-29.
        let w = Window {
            days: vec![7],
            start: time!(02:30),
            end: time!(04:00),
        };
        let berlin = Tz::Europe__Berlin;
        let open = w
            .next_open(datetime!(2026-03-28 12:00 UTC), berlin)
            .unwrap();
        // 03:00 CEST = 01:00 UTC.
        assert_eq!(open, datetime!(2026-03-29 01:00 UTC));
        assert!(w.contains(open, berlin));
    }

    #[test]
    fn a_window_with_no_days_never_opens() {
        let w = Window {
            days: vec![],
            start: time!(09:00),
            end: time!(17:00),
        };
        assert_eq!(w.next_open(datetime!(2026-11-23 15:00 UTC), Tz::UTC), None);
    }

    const ZONES: &[Tz] = &[
        Tz::UTC,
        Tz::America__New_York,
        Tz::Europe__Berlin,
        Tz::Europe__London,
        Tz::Australia__Sydney,
        Tz::Asia__Kolkata,
        Tz::America__Sao_Paulo,
        Tz::Pacific__Chatham,
        Tz::Australia__Lord_Howe,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Over five years of DST changes: the answer is never before now, always inside the
        /// window on the lead's wall clock, and is now itself whenever now is inside.
        #[test]
        fn next_open_is_never_outside_the_window(
            secs in 1_767_225_600i64..1_924_992_000i64,
            zone_i in 0..ZONES.len(),
            days in proptest::collection::btree_set(1i16..=7, 1..=7),
            start_min in 0u32..(24 * 60 - 1),
            len in 1u32..(24 * 60),
        ) {
            let tz = ZONES[zone_i];
            let end_min = (start_min + len).min(24 * 60 - 1);
            prop_assume!(end_min > start_min);
            let t = |m: u32| time::Time::from_hms(u8::try_from(m / 60).unwrap(), u8::try_from(m % 60).unwrap(), 0).unwrap();
            let w = Window { days: days.into_iter().collect(), start: t(start_min), end: t(end_min) };
            let now = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let open = w.next_open(now, tz);
            let open = open.expect("a window with days opens within two weeks");
            prop_assert!(open >= now);
            prop_assert!(w.contains(open, tz), "{open} is outside {w:?} in {tz}");
            if w.contains(now, tz) {
                prop_assert_eq!(open, now);
            }
            prop_assert!(open - now <= time::Duration::days(8));
        }
    }
}
