//! Input quoted back in a message is cut to [`MAX_QUOTED`] bytes, so a mistaken or hostile
//! input of megabytes (a config key, a request's filter) is never echoed back whole.

use std::borrow::Cow;

/// The most bytes of any input a message repeats.
pub const MAX_QUOTED: usize = 200;

/// `text` when it is at most [`MAX_QUOTED`] bytes; else its first bytes up to that many
/// (cut on a character boundary), an ellipsis and the whole length.
pub fn clip(text: &str) -> Cow<'_, str> {
    if text.len() <= MAX_QUOTED {
        return Cow::Borrowed(text);
    }
    let mut end = MAX_QUOTED;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… ({} bytes)", &text[..end], text.len()))
}

/// `bytes` as lowercase hex, at most [`MAX_QUOTED`] characters of it, then an ellipsis and
/// the whole length when cut.
pub fn clip_hex(bytes: &[u8]) -> String {
    let shown = MAX_QUOTED / 2;
    if bytes.len() <= shown {
        return hex::encode(bytes);
    }
    format!("{}… ({} bytes)", hex::encode(&bytes[..shown]), bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_quoted_whole() {
        assert_eq!(clip("htp-listen"), "htp-listen");
        let exactly = "a".repeat(MAX_QUOTED);
        assert_eq!(clip(&exactly), exactly.as_str());
        assert_eq!(clip_hex(&[0xab; 100]), "ab".repeat(100));
    }

    #[test]
    fn long_input_is_cut_on_a_character_boundary_with_its_length() {
        let long = "k".repeat(10_000_000);
        let quoted = clip(&long);
        assert_eq!(
            quoted,
            format!("{}… (10000000 bytes)", "k".repeat(MAX_QUOTED))
        );
        // 'é' is two bytes: byte 200 falls inside the 100th one when it starts at byte 1.
        let accented = format!("x{}", "é".repeat(150));
        let quoted = clip(&accented);
        let kept = quoted.split('…').next().unwrap_or_default();
        assert_eq!(kept.len(), MAX_QUOTED - 1);
        assert!(quoted.ends_with("… (301 bytes)"), "{quoted}");
        let hex = clip_hex(&[7; 1 << 20]);
        assert_eq!(hex, format!("{}… (1048576 bytes)", "07".repeat(100)));
    }
}
