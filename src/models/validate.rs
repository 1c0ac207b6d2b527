//! Input rules shared by the pages and the API (docs/protocol.md's conventions).

use phonenumber::{country, Mode};
use regex::Regex;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

pub const NICKNAME_MAX_CHARS: usize = 32;
pub const PASSWORD_MIN_BYTES: usize = 8;
/// bcrypt reads no further than this; longer passwords are refused, never truncated.
pub const PASSWORD_MAX_BYTES: usize = 72;
pub const CLIENT_ID_MAX_CHARS: usize = 64;

static ROOM_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9_-]{0,63}$").unwrap());
/// Names of direct rooms, which users cannot take for public rooms.
static DIRECT_ROOM_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^dm-[0-9]+-[0-9]+$").unwrap());

/// Reads a phone number as written by a person and returns it in E.164 form.
pub fn normalize_phone(input: &str, default_region: country::Id) -> Result<String, &'static str> {
    let input = input.trim();
    if input.is_empty() {
        return Err("Enter your phone number.");
    }
    let allowed = |c: char| c.is_ascii_digit() || " -().".contains(c);
    let digits = input.strip_prefix('+').unwrap_or(input);
    if !digits.chars().all(allowed) || !digits.chars().any(|c| c.is_ascii_digit()) {
        return Err("A phone number has only digits, spaces, dashes, brackets and a leading +.");
    }
    let number = phonenumber::parse(Some(default_region), input).map_err(|_| "This is not a valid phone number.")?;
    if !number.is_valid() {
        return Err("This is not a valid phone number.");
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// Trims a nickname, normalises it to NFC and checks it: 1 to 32 characters, no control
/// or format characters (Unicode Cc and Cf: zero-width spaces, direction overrides and
/// the like make one name look like another, or reverse the text around it).
pub fn nickname(input: &str) -> Result<String, &'static str> {
    let nickname: String = input.trim().nfc().collect();
    if nickname.is_empty() {
        return Err("Choose a nickname.");
    }
    if nickname.chars().count() > NICKNAME_MAX_CHARS {
        return Err("A nickname has at most 32 characters.");
    }
    if nickname.chars().any(|c| matches!(c.general_category(), GeneralCategory::Control | GeneralCategory::Format)) {
        return Err("A nickname cannot contain control or invisible formatting characters.");
    }
    // Deleted accounts sign their messages so; nobody may pass for one.
    let reserved = nickname_skeleton(&super::user::DELETED_NICKNAME.to_lowercase());
    if nickname_skeleton(&nickname.to_lowercase()) == reserved {
        return Err("This nickname is reserved.");
    }
    Ok(nickname)
}

/// What a nickname looks like (its UTS #39 confusable skeleton): two nicknames with the
/// same skeleton would pass for each other, so only one may exist.
pub fn nickname_skeleton(nickname: &str) -> String {
    unicode_security::skeleton(nickname).collect()
}

pub fn password(password: &str) -> Result<(), &'static str> {
    if password.len() < PASSWORD_MIN_BYTES {
        return Err("A password has at least 8 characters.");
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err("A password has at most 72 bytes.");
    }
    Ok(())
}

pub fn room_name(name: &str) -> Result<(), &'static str> {
    if !ROOM_NAME.is_match(name) {
        return Err("A room name is 1 to 64 lowercase letters, digits, - or _, starting with a letter or digit.");
    }
    if DIRECT_ROOM_NAME.is_match(name) {
        return Err("Names of the form dm-<number>-<number> are kept for direct rooms.");
    }
    Ok(())
}

/// The text of a message, trimmed; empty or longer than `max_chars` characters is refused.
pub fn message_text(text: &str, max_chars: usize) -> Result<&str, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the message is empty".into());
    }
    if text.chars().count() > max_chars {
        return Err(format!("the message is longer than {max_chars} characters"));
    }
    Ok(text)
}

/// Longest a room's topic, or a moderator's reason, may be (characters).
pub const SHORT_TEXT_MAX_CHARS: usize = 200;

/// A topic or a reason: one line, trimmed, up to [`SHORT_TEXT_MAX_CHARS`]; empty is
/// allowed (no topic, no reason).
pub fn short_text<'a>(text: &'a str, what: &str) -> Result<&'a str, String> {
    let text = text.trim();
    if text.chars().count() > SHORT_TEXT_MAX_CHARS {
        return Err(format!("the {what} is longer than {SHORT_TEXT_MAX_CHARS} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("the {what} is one line without control characters"));
    }
    Ok(text)
}

/// Longest emoji a reaction may be, in bytes (family and flag sequences fit).
pub const EMOJI_MAX_BYTES: usize = 32;

/// A reaction: one emoji (a single grapheme that Unicode lists as an emoji, with or
/// without its variation selector), at most [`EMOJI_MAX_BYTES`].
pub fn emoji(text: &str) -> Result<(), String> {
    use unicode_segmentation::UnicodeSegmentation;
    if text.is_empty() || text.len() > EMOJI_MAX_BYTES {
        return Err(format!("emoji must be one emoji of at most {EMOJI_MAX_BYTES} bytes"));
    }
    if text.graphemes(true).count() != 1 {
        return Err("emoji must be exactly one emoji".into());
    }
    // Digits, `#` and `*` are emoji only as keycaps (with U+20E3).
    if text.is_ascii() {
        return Err(format!("{text:?} is not an emoji"));
    }
    let bare = text.replace('\u{fe0f}', "");
    let known = emojis::get(text).is_some()
        || emojis::get(&bare).is_some()
        || emojis::get(&format!("{bare}\u{fe0f}")).is_some();
    if !known {
        return Err(format!("{text:?} is not an emoji"));
    }
    Ok(())
}

pub fn client_id(id: &str) -> Result<(), String> {
    let len = id.chars().count();
    if len == 0 || len > CLIENT_ID_MAX_CHARS {
        return Err(format!("client_id must be 1 to {CLIENT_ID_MAX_CHARS} characters"));
    }
    if id.chars().any(char::is_control) {
        return Err("client_id cannot contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_number_written_several_ways_is_one_e164() {
        let cn = country::Id::CN;
        let expected = "+8613800138000";
        for input in ["+86 138 0013 8000", "13800138000", "138-0013-8000", "(138) 0013 8000", "+8613800138000"] {
            assert_eq!(normalize_phone(input, cn).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn bad_numbers_are_refused() {
        for input in ["", "abc", "12", "+86 138 0013 800a", "++8613800138000"] {
            assert!(normalize_phone(input, country::Id::CN).is_err(), "{input}");
        }
    }

    #[test]
    fn nickname_rules() {
        assert_eq!(nickname("  alice ").unwrap(), "alice");
        assert!(nickname("").is_err());
        assert!(nickname(&"x".repeat(33)).is_err());
        assert!(nickname(&"é".repeat(32)).is_ok());
        assert!(nickname("a\u{7}b").is_err());
        // NFC: a decomposed é becomes the composed one.
        assert_eq!(nickname("e\u{301}ve").unwrap(), "\u{e9}ve");
        // Invisible and direction-changing characters (Cf).
        for invisible in ["al\u{200b}ice", "\u{202e}ecila", "bob\u{2066}", "\u{feff}carol"] {
            assert!(nickname(invisible).is_err(), "{invisible:?}");
        }
    }

    #[test]
    fn password_bounds_are_bytes() {
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"a".repeat(72)).is_ok());
        assert!(password(&"a".repeat(73)).is_err());
    }

    #[test]
    fn room_names_are_slugs() {
        assert!(room_name("lobby").is_ok());
        assert!(room_name("a").is_ok());
        assert!(room_name(&"a".repeat(64)).is_ok());
        assert!(room_name(&"a".repeat(65)).is_err());
        for bad in ["", "Lobby", "-x", "_x", "a b", "dm-1-2"] {
            assert!(room_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn look_alike_nicknames_share_a_skeleton() {
        // Cyrillic а (U+0430) in place of Latin a, and digit 0 for the letter O.
        assert_eq!(nickname_skeleton("\u{430}lice"), nickname_skeleton("alice"));
        assert_eq!(nickname_skeleton("B0B"), nickname_skeleton("BOB"));
        assert_ne!(nickname_skeleton("alice"), nickname_skeleton("alicia"));
    }

    proptest::proptest! {
        /// Whatever is typed, the rules answer with a value or a message, never a panic,
        /// and an accepted nickname is already in its final form.
        #[test]
        fn nickname_never_panics_and_is_idempotent(input in "\\PC{0,40}|[\\x00-\\x{2100}]{0,40}") {
            if let Ok(accepted) = nickname(&input) {
                proptest::prop_assert_eq!(nickname(&accepted), Ok(accepted.clone()));
                let _ = nickname_skeleton(&accepted);
            }
        }

        #[test]
        fn other_inputs_never_panic(input in "\\PC{0,80}") {
            let _ = room_name(&input);
            let _ = password(&input);
            let _ = normalize_phone(&input, country::Id::CN);
        }
    }

    #[test]
    fn reactions_are_single_emoji() {
        for ok in ["👍", "❤️", "❤", "👍🏽", "👨‍👩‍👧‍👦", "🇨🇳", "1️⃣", "😂"] {
            assert!(emoji(ok).is_ok(), "{ok:?} is an emoji");
        }
        for bad in ["", "a", "1", "👍👍", "👍 ", "<b>", "ab", "\u{fe0f}"] {
            assert!(emoji(bad).is_err(), "{bad:?} is not one emoji");
        }
    }
}
