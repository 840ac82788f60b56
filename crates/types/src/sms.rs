//! A text message's length as phones and carriers count it: the encoding (GSM-7 when every
//! character is in the GSM 03.38 alphabet, else UCS-2), the units it takes (septets, or UTF-16
//! code units) and the segments it is sent in. Shared by the editor, the review and the server,
//! so what a person sees while writing is what is billed.

use serde::{Deserialize, Serialize};

/// The longest text message Aura sends, in characters (Twilio's limit).
pub const MAX_CHARS: usize = 1600;
/// Above this many characters the editor warns: a long text costs several segments and reads
/// poorly on a phone.
pub const WARN_CHARS: usize = 320;

/// GSM 03.38's basic alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table (an escape and the character: two septets each).
const GSM_EXTENDED: &str = "\u{0C}^{}\\[~]|€";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// How a text is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SmsLength {
    pub encoding: SmsEncoding,
    /// Characters as a person counts them.
    pub chars: usize,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

/// Septets a character takes in GSM-7, or `None` when it has no GSM-7 form.
fn septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Segments for units of `sizes` (in order) when one segment holds `single` units and each of
/// several holds `part` (a character is never split across two).
fn segments(sizes: impl Iterator<Item = usize> + Clone, single: usize, part: usize) -> usize {
    let total: usize = sizes.clone().sum();
    if total == 0 {
        return 0;
    }
    if total <= single {
        return 1;
    }
    let (mut count, mut used) = (1, 0);
    for size in sizes {
        if used + size > part {
            count += 1;
            used = 0;
        }
        used += size;
    }
    count
}

/// Measures `text` as it would be sent.
pub fn measure(text: &str) -> SmsLength {
    let chars = text.chars().count();
    if text.chars().all(|c| septets(c).is_some()) {
        let sizes = text.chars().map(|c| septets(c).unwrap_or(1));
        SmsLength {
            encoding: SmsEncoding::Gsm7,
            chars,
            units: sizes.clone().sum(),
            segments: segments(sizes, 160, 153),
        }
    } else {
        let sizes = text.chars().map(char::len_utf16);
        SmsLength {
            encoding: SmsEncoding::Ucs2,
            chars,
            units: sizes.clone().sum(),
            segments: segments(sizes, 70, 67),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn gsm_texts_take_160_septets_then_153_a_segment() {
        assert_eq!(measure("").segments, 0);
        let plain = "a".repeat(160);
        assert_eq!(
            measure(&plain),
            SmsLength {
                encoding: SmsEncoding::Gsm7,
                chars: 160,
                units: 160,
                segments: 1
            }
        );
        assert_eq!(measure(&"a".repeat(161)).segments, 2);
        assert_eq!(measure(&"a".repeat(306)).segments, 2);
        assert_eq!(measure(&"a".repeat(307)).segments, 3);
        // The extension table costs two septets, and an escape is never split from its character.
        let euro = format!("{}€", "a".repeat(159));
        assert_eq!((measure(&euro).units, measure(&euro).segments), (161, 2));
        let edge = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(measure(&edge).segments, 2);
        assert_eq!(measure("Café £5 — ok?").encoding, SmsEncoding::Ucs2);
        assert_eq!(measure("Café £5, ok? Ñ").encoding, SmsEncoding::Gsm7);
    }

    #[test]
    fn other_texts_take_70_units_then_67_and_emoji_take_two() {
        let text = "é".repeat(69) + "ś";
        assert_eq!(measure(&text).segments, 1);
        assert_eq!(measure(&(text.clone() + "ś")).segments, 2);
        let emoji = "😀".repeat(35);
        assert_eq!(
            measure(&emoji),
            SmsLength {
                encoding: SmsEncoding::Ucs2,
                chars: 35,
                units: 70,
                segments: 1
            }
        );
        // 33 emoji fill 66 units; the 34th does not fit in the 67 left and opens a segment.
        assert_eq!(measure(&"😀".repeat(36)).segments, 2);
        assert_eq!(measure(&"😀".repeat(67)).segments, 3);
    }
}
