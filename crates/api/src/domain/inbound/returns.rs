//! The date an out-of-office says its writer is back, read from the text in the languages and
//! forms people write it ("back on 4 January 2027", "ab dem 7. Januar wieder", "de retour le
//! 5 janvier", "hasta el 8 de enero", "until 2027-01-06", "until 12/01/2027").

use time::{Date, Duration, Month};

/// Month names (and common abbreviations) in English, German, French, Spanish, Dutch, Italian
/// and Portuguese.
const MONTHS: &[(&str, u8)] = &[
    ("january", 1),
    ("jan", 1),
    ("januar", 1),
    ("jänner", 1),
    ("janvier", 1),
    ("enero", 1),
    ("januari", 1),
    ("gennaio", 1),
    ("janeiro", 1),
    ("february", 2),
    ("feb", 2),
    ("februar", 2),
    ("février", 2),
    ("fevrier", 2),
    ("febrero", 2),
    ("februari", 2),
    ("febbraio", 2),
    ("fevereiro", 2),
    ("march", 3),
    ("mar", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mars", 3),
    ("marzo", 3),
    ("maart", 3),
    ("março", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("abril", 4),
    ("aprile", 4),
    ("may", 5),
    ("mai", 5),
    ("mayo", 5),
    ("mei", 5),
    ("maggio", 5),
    ("maio", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("giugno", 6),
    ("junho", 6),
    ("july", 7),
    ("jul", 7),
    ("juli", 7),
    ("juillet", 7),
    ("julio", 7),
    ("luglio", 7),
    ("julho", 7),
    ("august", 8),
    ("aug", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("augustus", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("settembre", 9),
    ("setembro", 9),
    ("october", 10),
    ("oct", 10),
    ("oktober", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("ottobre", 10),
    ("outubro", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("novembro", 11),
    ("december", 12),
    ("dec", 12),
    ("dezember", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("diciembre", 12),
    ("dicembre", 12),
    ("dezembro", 12),
];

/// Words that may stand between a day and its month or year ("8 de enero", "the 4th of
/// January", "1er janvier").
const FILLERS: &[&str] = &[
    "de", "of", "the", "st", "nd", "rd", "th", "er", "del", "e", "º",
];

/// Longest an out-of-office is taken to last: a date further away is something else (a
/// signature's founding year, an event).
const HORIZON_DAYS: i64 = 180;

/// The return date in `text`, for an auto-reply received on `received`: of the dates the text
/// names after that day and within the horizon, the latest (an absence names its start, then its
/// end). Dates without a year take the first year that puts them after `received`.
pub fn return_date(text: &str, received: Date) -> Option<Date> {
    let tokens = tokenize(text);
    let mut found: Vec<Date> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((date, used)) = date_at(&tokens[i..], received) {
            found.push(date);
            i += used;
        } else {
            i += 1;
        }
    }
    let last = received + Duration::days(HORIZON_DAYS);
    found
        .into_iter()
        .filter(|d| *d > received && *d <= last)
        .max()
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Number(u32, usize),
    /// A numeric date written with separators: 12/01/2027, 2027-01-06, 7.1.2027.
    Numeric(Vec<u32>, Vec<usize>, char),
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            // A run of digits, possibly joined by one kind of separator into a numeric date.
            let mut groups = Vec::new();
            let mut widths = Vec::new();
            let mut sep = None;
            loop {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                groups.push(digits.parse::<u32>().unwrap_or(u32::MAX));
                widths.push(i - start);
                let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
                match chars.get(i) {
                    Some(&s @ ('/' | '-' | '.')) if next_is_digit && sep.is_none_or(|x| x == s) => {
                        sep = Some(s);
                        i += 1;
                    }
                    _ => break,
                }
            }
            match (groups.len(), sep) {
                (1, _) => out.push(Token::Number(groups[0], widths[0])),
                (2 | 3, Some(s)) => out.push(Token::Numeric(groups, widths, s)),
                _ => {}
            }
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(
                chars[start..i].iter().collect::<String>().to_lowercase(),
            ));
        } else {
            i += 1;
        }
    }
    out
}

fn month_of(word: &str) -> Option<u8> {
    MONTHS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, m)| *m)
}

fn is_filler(t: &Token) -> bool {
    matches!(t, Token::Word(w) if FILLERS.contains(&w.as_str()))
}

/// The next non-filler token at or after `i`, and its index.
fn skip_fillers(tokens: &[Token], mut i: usize) -> Option<(usize, &Token)> {
    while i < tokens.len() && is_filler(&tokens[i]) {
        i += 1;
    }
    tokens.get(i).map(|t| (i, t))
}

fn year_of(t: &Token) -> Option<i32> {
    match t {
        Token::Number(y, 4) if (2000..2100).contains(y) => i32::try_from(*y).ok(),
        _ => None,
    }
}

/// A date starting at `tokens[0]`, and how many tokens it spans.
fn date_at(tokens: &[Token], received: Date) -> Option<(Date, usize)> {
    match &tokens[0] {
        Token::Numeric(groups, widths, sep) => {
            numeric(groups, widths, *sep, received).map(|d| (d, 1))
        }
        // "7. Januar 2027", "8 de enero de 2027", "4th of January".
        Token::Number(day, w) if *w <= 2 && (1..=31).contains(day) => {
            let (m_at, month) = skip_fillers(tokens, 1)?;
            let Token::Word(word) = month else {
                return None;
            };
            let month = month_of(word)?;
            let (year, used) = match skip_fillers(tokens, m_at + 1) {
                Some((y_at, t)) => match year_of(t) {
                    Some(y) => (Some(y), y_at + 1),
                    None => (None, m_at + 1),
                },
                None => (None, m_at + 1),
            };
            build(year, month, *day, received).map(|d| (d, used))
        }
        // "January 11th", "January 11, 2027", "Monday, January 11th".
        Token::Word(word) => {
            let month = month_of(word)?;
            let (d_at, day) = skip_fillers(tokens, 1)?;
            let Token::Number(day, w) = day else {
                return None;
            };
            if *w > 2 || !(1..=31).contains(day) {
                return None;
            }
            let (year, used) = match skip_fillers(tokens, d_at + 1) {
                Some((y_at, t)) => match year_of(t) {
                    Some(y) => (Some(y), y_at + 1),
                    None => (None, d_at + 1),
                },
                None => (None, d_at + 1),
            };
            build(year, month, *day, received).map(|d| (d, used))
        }
        _ => None,
    }
}

/// 2027-01-06 (year first), 12/01/2027 and 12.01.27 (day first, as most of the world writes it;
/// month first only when the day-first reading is impossible), 12/01 (no year).
fn numeric(groups: &[u32], widths: &[usize], sep: char, received: Date) -> Option<Date> {
    let m = |n: u32| u8::try_from(n).ok();
    let d = m;
    match (groups, widths) {
        ([y, mo, da], [4, _, _]) if sep == '-' || sep == '/' || sep == '.' => build(
            Some(i32::try_from(*y).ok()?),
            m(*mo)?,
            u32::from(d(*da)?),
            received,
        ),
        ([a, b, y], [_, _, 2 | 4]) => {
            let year = if *y < 100 { 2000 + *y } else { *y };
            let year = Some(i32::try_from(year).ok()?);
            build(year, m(*b)?, *a, received).or_else(|| build(year, m(*a)?, *b, received))
        }
        ([a, b], [1 | 2, 1 | 2]) if sep != '-' => {
            build(None, m(*b)?, *a, received).or_else(|| build(None, m(*a)?, *b, received))
        }
        _ => None,
    }
}

/// The date `day` of `month` in `year`, or, without a year, in the first year that puts it after
/// `received`.
fn build(year: Option<i32>, month: u8, day: u32, received: Date) -> Option<Date> {
    let month = Month::try_from(month).ok()?;
    let day = u8::try_from(day).ok()?;
    match year {
        Some(y) => Date::from_calendar_date(y, month, day).ok(),
        None => {
            let this = Date::from_calendar_date(received.year(), month, day).ok();
            match this {
                Some(d) if d > received => Some(d),
                _ => Date::from_calendar_date(received.year() + 1, month, day).ok(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::return_date;
    use time::macros::date;

    const RECEIVED: time::Date = date!(2026 - 12 - 14);

    #[test]
    fn return_dates_in_many_languages_and_forms() {
        for (text, want) in [
            ("I will be back on 4 January 2027.", date!(2027 - 01 - 04)),
            (
                "I'm out until Monday, January 11th, with limited access to email.",
                date!(2027 - 01 - 11),
            ),
            (
                "Ich bin ab dem 7. Januar 2027 wieder im Büro.",
                date!(2027 - 01 - 07),
            ),
            ("Je serai de retour le 5 janvier.", date!(2027 - 01 - 05)),
            (
                "Estaré fuera hasta el 8 de enero de 2027.",
                date!(2027 - 01 - 08),
            ),
            ("Away until 2027-01-06.", date!(2027 - 01 - 06)),
            ("Out of the office until 12/01/2027.", date!(2027 - 01 - 12)),
            (
                "Ik ben afwezig tot en met 6 januari.",
                date!(2027 - 01 - 06),
            ),
            (
                "Sarò fuori ufficio fino al 9 gennaio 2027.",
                date!(2027 - 01 - 09),
            ),
            ("Estarei ausente até 3 de janeiro.", date!(2027 - 01 - 03)),
            (
                "On leave from 14 December until 2 January.",
                date!(2027 - 01 - 02),
            ),
            ("Back the 4th of January", date!(2027 - 01 - 04)),
            ("back 1/13/2027", date!(2027 - 01 - 13)),
        ] {
            assert_eq!(return_date(text, RECEIVED), Some(want), "{text}");
        }
    }

    #[test]
    fn no_date_or_only_unlikely_ones_give_none() {
        for text in [
            "I am out of the office with limited access to email.",
            "Thank you for your message. Founded in 1998, since 12 March 2004 at 12 Harbour Road.",
            "Call 020 7946 0123 for urgent matters.",
            "We met on 2 December.",
        ] {
            assert_eq!(return_date(text, RECEIVED), None, "{text}");
        }
    }
}
