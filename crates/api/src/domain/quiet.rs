//! Quiet hours: when a text may reach a person, in their local time. By default 8:00–21:00 (the
//! TCPA's hours); US states with stricter laws have their own window, and some forbid Sundays.
//! The recipient's time zone is the contact's own, else their state's (every zone of a state that
//! spans several: the message must be lawful in all of them), else their country's, else the
//! zone of their number's country. A US recipient whose state is unknown gets the strictest state
//! window, in every US zone (or their own, when known). A text due outside is
//! moved to the next allowed moment, never sent.

use crate::delivery::window::{from_chrono, to_chrono};
use chrono::{Datelike, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use std::str::FromStr;
use time::OffsetDateTime;

/// The hours a text may arrive, in the recipient's local time: from `start` (inclusive) to `end`
/// (exclusive), whole hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub start: u32,
    pub end: u32,
    /// On Sundays: `None` means no texts at all; otherwise the hour they may start.
    pub sunday_start: Option<u32>,
}

impl From<Window> for aura_types::QuietWindow {
    fn from(w: Window) -> Self {
        Self {
            start: w.start,
            end: w.end,
            sunday_start: w.sunday_start,
        }
    }
}

/// The rules as the organization reviews them.
pub fn table() -> aura_types::QuietHours {
    aura_types::QuietHours {
        default: DEFAULT.into(),
        states: STATES
            .iter()
            .map(|(code, name, w)| aura_types::StateQuietHours {
                code: (*code).to_owned(),
                name: (*name).to_owned(),
                window: (*w).into(),
            })
            .collect(),
    }
}

/// The default: 8:00 to 21:00 every day.
pub const DEFAULT: Window = Window {
    start: 8,
    end: 21,
    sunday_start: Some(8),
};

/// US states whose law is stricter than the default: (code, name, window). Reviewed in
/// Settings → Channels; a state not listed keeps the default.
pub const STATES: &[(&str, &str, Window)] = &[
    (
        "AL",
        "Alabama",
        Window {
            start: 8,
            end: 20,
            sunday_start: None,
        },
    ),
    (
        "CT",
        "Connecticut",
        Window {
            start: 9,
            end: 20,
            sunday_start: Some(9),
        },
    ),
    (
        "FL",
        "Florida",
        Window {
            start: 8,
            end: 20,
            sunday_start: Some(8),
        },
    ),
    (
        "LA",
        "Louisiana",
        Window {
            start: 8,
            end: 20,
            sunday_start: None,
        },
    ),
    (
        "MA",
        "Massachusetts",
        Window {
            start: 8,
            end: 20,
            sunday_start: Some(8),
        },
    ),
    (
        "MD",
        "Maryland",
        Window {
            start: 8,
            end: 20,
            sunday_start: Some(8),
        },
    ),
    (
        "MS",
        "Mississippi",
        Window {
            start: 8,
            end: 20,
            sunday_start: None,
        },
    ),
    (
        "NJ",
        "New Jersey",
        Window {
            start: 8,
            end: 20,
            sunday_start: Some(8),
        },
    ),
    (
        "OK",
        "Oklahoma",
        Window {
            start: 8,
            end: 20,
            sunday_start: Some(8),
        },
    ),
    (
        "TX",
        "Texas",
        Window {
            start: 9,
            end: 21,
            sunday_start: Some(12),
        },
    ),
];

/// Each state's time zones (all of them where a state spans several).
const STATE_ZONES: &[(&str, &str, &[Tz])] = {
    use chrono_tz::America::*;
    use chrono_tz::Pacific::Honolulu;
    &[
        ("AK", "Alaska", &[Anchorage, Adak]),
        ("AL", "Alabama", &[Chicago]),
        ("AR", "Arkansas", &[Chicago]),
        ("AZ", "Arizona", &[Phoenix]),
        ("CA", "California", &[Los_Angeles]),
        ("CO", "Colorado", &[Denver]),
        ("CT", "Connecticut", &[New_York]),
        ("DC", "District of Columbia", &[New_York]),
        ("DE", "Delaware", &[New_York]),
        ("FL", "Florida", &[New_York, Chicago]),
        ("GA", "Georgia", &[New_York]),
        ("HI", "Hawaii", &[Honolulu]),
        ("IA", "Iowa", &[Chicago]),
        ("ID", "Idaho", &[Boise, Los_Angeles]),
        ("IL", "Illinois", &[Chicago]),
        ("IN", "Indiana", &[Indiana::Indianapolis, Chicago]),
        ("KS", "Kansas", &[Chicago, Denver]),
        ("KY", "Kentucky", &[New_York, Chicago]),
        ("LA", "Louisiana", &[Chicago]),
        ("MA", "Massachusetts", &[New_York]),
        ("MD", "Maryland", &[New_York]),
        ("ME", "Maine", &[New_York]),
        ("MI", "Michigan", &[Detroit, Menominee]),
        ("MN", "Minnesota", &[Chicago]),
        ("MO", "Missouri", &[Chicago]),
        ("MS", "Mississippi", &[Chicago]),
        ("MT", "Montana", &[Denver]),
        ("NC", "North Carolina", &[New_York]),
        ("ND", "North Dakota", &[Chicago, Denver]),
        ("NE", "Nebraska", &[Chicago, Denver]),
        ("NH", "New Hampshire", &[New_York]),
        ("NJ", "New Jersey", &[New_York]),
        ("NM", "New Mexico", &[Denver]),
        ("NV", "Nevada", &[Los_Angeles]),
        ("NY", "New York", &[New_York]),
        ("OH", "Ohio", &[New_York]),
        ("OK", "Oklahoma", &[Chicago]),
        ("OR", "Oregon", &[Los_Angeles, Boise]),
        ("PA", "Pennsylvania", &[New_York]),
        ("RI", "Rhode Island", &[New_York]),
        ("SC", "South Carolina", &[New_York]),
        ("SD", "South Dakota", &[Chicago, Denver]),
        ("TN", "Tennessee", &[Chicago, New_York]),
        ("TX", "Texas", &[Chicago, Denver]),
        ("UT", "Utah", &[Denver]),
        ("VA", "Virginia", &[New_York]),
        ("VT", "Vermont", &[New_York]),
        ("WA", "Washington", &[Los_Angeles]),
        ("WI", "Wisconsin", &[Chicago]),
        ("WV", "West Virginia", &[New_York]),
        ("WY", "Wyoming", &[Denver]),
    ]
};

/// Calling codes of countries with one time zone (longest first is not needed: none is a prefix
/// of another here), for a number whose contact says nothing of where they are.
const CALLING_CODES: &[(&str, &str)] = &[
    ("+44", "GB"),
    ("+33", "FR"),
    ("+49", "DE"),
    ("+34", "ES"),
    ("+39", "IT"),
    ("+31", "NL"),
    ("+32", "BE"),
    ("+41", "CH"),
    ("+43", "AT"),
    ("+45", "DK"),
    ("+46", "SE"),
    ("+47", "NO"),
    ("+48", "PL"),
    ("+351", "PT"),
    ("+353", "IE"),
    ("+30", "GR"),
    ("+91", "IN"),
    ("+971", "AE"),
    ("+972", "IL"),
    ("+65", "SG"),
    ("+81", "JP"),
    ("+82", "KR"),
    ("+27", "ZA"),
    ("+234", "NG"),
    ("+254", "KE"),
    ("+63", "PH"),
    ("+66", "TH"),
    ("+84", "VN"),
    ("+92", "PK"),
    ("+20", "EG"),
];

/// Where the recipient is, as far as the contact and the number tell.
#[derive(Clone, Debug, Default)]
pub struct Recipient<'a> {
    pub timezone: Option<&'a str>,
    pub state: Option<&'a str>,
    pub country: Option<&'a str>,
    pub number: &'a str,
}

fn us_state(state: &str) -> Option<&'static (&'static str, &'static str, &'static [Tz])> {
    let s = state.trim();
    STATE_ZONES
        .iter()
        .find(|(code, name, _)| code.eq_ignore_ascii_case(s) || name.eq_ignore_ascii_case(s))
}

/// A US recipient: their country says so, or (no country given) their number is +1.
fn in_us(r: &Recipient<'_>) -> bool {
    match r.country.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => c.eq_ignore_ascii_case("US") || c.eq_ignore_ascii_case("United States"),
        None => r.number.starts_with("+1"),
    }
}

/// A US recipient whose state is unknown: the strictest of the state windows (9:00–20:00, no
/// Sundays), since any state's law may apply.
pub const UNKNOWN_STATE: Window = Window {
    start: 9,
    end: 20,
    sunday_start: None,
};

/// Where a US recipient of unknown state and time zone may be: each zone must allow the text.
const US_ZONES: &[Tz] = &[
    chrono_tz::America::New_York,
    chrono_tz::America::Chicago,
    chrono_tz::America::Denver,
    chrono_tz::America::Los_Angeles,
    chrono_tz::America::Anchorage,
    chrono_tz::Pacific::Honolulu,
];

/// The recipient's window and the zones it must hold in (`fallback`: the campaign's zone, when
/// nothing says where the recipient is).
pub fn rules_for(r: &Recipient<'_>, fallback: Tz) -> (Window, Vec<Tz>) {
    let us = in_us(r);
    let state = r.state.filter(|_| us).and_then(us_state);
    let window = match state {
        Some((code, ..)) => STATES
            .iter()
            .find(|(c, ..)| c == code)
            .map_or(DEFAULT, |(.., w)| *w),
        None if us => UNKNOWN_STATE,
        None => DEFAULT,
    };
    if let Some(tz) = r.timezone.and_then(|z| Tz::from_str(z.trim()).ok()) {
        return (window, vec![tz]);
    }
    if let Some((.., zones)) = state {
        return (window, zones.to_vec());
    }
    if us {
        return (window, US_ZONES.to_vec());
    }
    let by_country = r
        .country
        .and_then(|c| aura_types::parse_country(c).ok())
        .or_else(|| {
            CALLING_CODES
                .iter()
                .find(|(code, _)| r.number.starts_with(code))
                .map(|(_, country)| *country)
        })
        .and_then(aura_types::country_timezone)
        .and_then(|z| Tz::from_str(z).ok());
    if let Some(tz) = by_country {
        return (window, vec![tz]);
    }
    (window, vec![fallback])
}

/// The local wall-clock moment `hour:00` of `date` in `tz`, as an instant (a moment a DST change
/// skips becomes the first one after it).
fn at_hour(tz: Tz, date: chrono::NaiveDate, hour: u32) -> Option<chrono::DateTime<chrono::Utc>> {
    let local = date.and_hms_opt(hour, 0, 0)?;
    (0..3).find_map(|extra| {
        tz.from_local_datetime(&(local + chrono::Duration::hours(extra)))
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
    })
}

/// The first moment at or after `now` inside `w` in one zone.
fn next_in_zone(
    now: chrono::DateTime<chrono::Utc>,
    tz: Tz,
    w: Window,
) -> chrono::DateTime<chrono::Utc> {
    let today = now.with_timezone(&tz).date_naive();
    for offset in 0..9 {
        let Some(date) = today.checked_add_days(chrono::Days::new(offset)) else {
            break;
        };
        let start = if date.weekday() == Weekday::Sun {
            match w.sunday_start {
                Some(h) => h,
                None => continue,
            }
        } else {
            w.start
        };
        let (Some(open), Some(close)) = (at_hour(tz, date, start), at_hour(tz, date, w.end)) else {
            continue;
        };
        if now < open {
            return open;
        }
        if now < close {
            return now;
        }
    }
    now
}

/// The first moment at or after `now` when a text may reach the recipient: `now` itself when it
/// may go now.
pub fn next_allowed(now: OffsetDateTime, window: Window, zones: &[Tz]) -> OffsetDateTime {
    let mut t = to_chrono(now);
    // Each zone's next opening moves the candidate on; it stops when every zone allows it.
    for _ in 0..32 {
        let next = zones
            .iter()
            .map(|tz| next_in_zone(t, *tz, window))
            .max()
            .unwrap_or(t);
        if next == t {
            return from_chrono(t);
        }
        t = next;
    }
    from_chrono(t)
}

/// Whether a text may reach the recipient at `now`.
pub fn allowed(now: OffsetDateTime, window: Window, zones: &[Tz]) -> bool {
    let t = to_chrono(now);
    zones.iter().all(|tz| {
        let local = t.with_timezone(tz);
        let start = if local.weekday() == Weekday::Sun {
            match window.sunday_start {
                Some(h) => h,
                None => return false,
            }
        } else {
            window.start
        };
        local.hour() >= start && local.hour() < window.end
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn florida() -> (Window, Vec<Tz>) {
        rules_for(
            &Recipient {
                state: Some("FL"),
                number: "+13055550100",
                ..Default::default()
            },
            Tz::UTC,
        )
    }

    #[test]
    fn a_text_due_at_half_past_eight_in_the_evening_in_florida_waits_until_eight() {
        let (w, zones) = florida();
        assert_eq!(w.end, 20);
        // Tuesday 2027-03-02 20:30 EST (UTC−5) = 01:30 UTC on the 3rd.
        let due = datetime!(2027-03-03 01:30 UTC);
        assert!(!allowed(due, w, &zones));
        // 8:00 in the Panhandle (Central) is 9:00 in Miami: lawful in both.
        assert_eq!(
            next_allowed(due, w, &zones),
            datetime!(2027-03-03 14:00 UTC)
        );
    }

    #[test]
    fn texas_sundays_start_at_noon_and_mississippi_has_none() {
        let tx = rules_for(
            &Recipient {
                state: Some("Texas"),
                timezone: Some("America/Chicago"),
                number: "+12145550100",
                ..Default::default()
            },
            Tz::UTC,
        );
        // Sunday 2027-06-06 10:00 CDT (UTC−5).
        assert_eq!(
            next_allowed(datetime!(2027-06-06 15:00 UTC), tx.0, &tx.1),
            datetime!(2027-06-06 17:00 UTC)
        );
        let ms = rules_for(
            &Recipient {
                state: Some("MS"),
                number: "+16015550100",
                ..Default::default()
            },
            Tz::UTC,
        );
        // Sunday 10:00 → Monday 8:00 CDT.
        assert_eq!(
            next_allowed(datetime!(2027-06-06 15:00 UTC), ms.0, &ms.1),
            datetime!(2027-06-07 13:00 UTC)
        );
    }

    #[test]
    fn the_zone_comes_from_the_contact_then_state_country_and_number() {
        let r = |timezone, state, country, number| Recipient {
            timezone,
            state,
            country,
            number,
        };
        let london = Tz::Europe__London;
        assert_eq!(
            rules_for(
                &r(Some("Europe/London"), None, None, "+15555550100"),
                Tz::UTC
            )
            .1,
            vec![london]
        );
        assert_eq!(
            rules_for(&r(None, None, Some("GB"), "+15555550100"), Tz::UTC).1,
            vec![london]
        );
        assert_eq!(
            rules_for(&r(None, None, None, "+447700900123"), Tz::UTC).1,
            vec![london]
        );
        // A US number, state unknown: the strictest window, in every US zone.
        assert_eq!(
            rules_for(&r(None, None, None, "+15555550100"), Tz::UTC),
            (UNKNOWN_STATE, US_ZONES.to_vec())
        );
        // Known time zone, unknown state: still the strictest window.
        assert_eq!(
            rules_for(
                &r(Some("America/New_York"), None, None, "+15555550100"),
                Tz::UTC
            ),
            (UNKNOWN_STATE, vec![Tz::America__New_York])
        );
        // A +1 number in Canada keeps the default window.
        assert_eq!(
            rules_for(&r(None, Some("ON"), Some("CA"), "+14165550100"), Tz::UTC).0,
            DEFAULT
        );
        // A state is a US state only for a US recipient.
        assert_eq!(
            rules_for(
                &r(None, Some("CA"), None, "+5511999990000"),
                Tz::Asia__Tokyo
            )
            .1,
            vec![Tz::Asia__Tokyo]
        );
    }

    #[test]
    fn two_zones_that_share_no_hour_wait_for_the_dst_change_that_makes_one() {
        // Los Angeles and Kathmandu, 9:00–20:00: no common hour while Los Angeles is on summer
        // time (it closes at 03:00 UTC, Kathmandu opens at 03:15); the first is the Monday after
        // it falls back (5 November 2028), 03:15 UTC.
        let now = datetime!(2028-10-21 03:00 UTC);
        let ct = STATES.iter().find(|(c, ..)| *c == "CT").unwrap().2;
        let zones = [Tz::America__Los_Angeles, Tz::Asia__Kathmandu];
        assert_eq!(
            next_allowed(now, ct, &zones),
            datetime!(2028-11-06 03:15 UTC)
        );
    }

    const ZONES: &[Tz] = &[
        Tz::America__New_York,
        Tz::America__Chicago,
        Tz::America__Denver,
        Tz::America__Phoenix,
        Tz::America__Los_Angeles,
        Tz::Pacific__Honolulu,
        Tz::America__Adak,
        Tz::Europe__London,
        Tz::Australia__Lord_Howe,
        Tz::America__Santiago,
        Tz::Asia__Kathmandu,
        Tz::UTC,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Across zones, DST changes and every state's window: the answer is never earlier than
        /// asked, is allowed, and no allowed moment is skipped (the minute before it is not
        /// allowed, unless it is the moment asked).
        #[test]
        fn the_next_allowed_moment_is_allowed_and_nothing_earlier_is(
            secs in 1_767_225_600i64..1_924_992_000i64,
            zone_a in 0..ZONES.len(),
            zone_b in 0..ZONES.len(),
            two in any::<bool>(),
            state in 0..=STATES.len(),
        ) {
            let now = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let window = STATES.get(state).map_or(DEFAULT, |(.., w)| *w);
            let mut zones = vec![ZONES[zone_a]];
            if two { zones.push(ZONES[zone_b]); }
            // Two zones far apart may share no hour: that case is not asked of a state's zones.
            prop_assume!(zones.len() == 1 || {
                let t = next_allowed(now, window, &zones);
                allowed(t, window, &zones)
            });
            let t = next_allowed(now, window, &zones);
            prop_assert!(t >= now);
            prop_assert!(allowed(t, window, &zones), "{t} in {zones:?}");
            // In one zone the next opening is within a week (and a day). Two zones far apart may
            // share no hour until a DST change moves one of them (below, checked in between).
            prop_assert!(zones.len() == 2 || t - now < time::Duration::days(9));
            if t > now {
                prop_assert!(!allowed(t - time::Duration::minutes(1), window, &zones) || t - time::Duration::minutes(1) < now);
                // Nothing allowed in between, checked each quarter-hour.
                let mut probe = now;
                while probe < t - time::Duration::minutes(1) {
                    prop_assert!(!allowed(probe, window, &zones), "{probe} allowed before {t}");
                    probe += time::Duration::minutes(15);
                }
            }
        }
    }

    #[test]
    fn every_state_zone_pair_shares_hours() {
        for (code, _, zones) in STATE_ZONES {
            let window = STATES
                .iter()
                .find(|(c, ..)| c == code)
                .map_or(DEFAULT, |(.., w)| *w);
            let t = next_allowed(datetime!(2027-01-04 12:00 UTC), window, zones);
            assert!(allowed(t, window, zones), "{code}");
        }
    }
}
