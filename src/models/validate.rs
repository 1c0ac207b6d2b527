//! Input rules shared by the pages and the API (PROTOCOL.md's conventions).

use phonenumber::{country, Mode};
use regex::Regex;
use std::sync::LazyLock;

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

/// Trims a nickname and checks it: 1 to 32 characters, no control characters.
pub fn nickname(input: &str) -> Result<String, &'static str> {
    let nickname = input.trim();
    if nickname.is_empty() {
        return Err("Choose a nickname.");
    }
    if nickname.chars().count() > NICKNAME_MAX_CHARS {
        return Err("A nickname has at most 32 characters.");
    }
    if nickname.chars().any(char::is_control) {
        return Err("A nickname cannot contain control characters.");
    }
    Ok(nickname.to_owned())
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
}
