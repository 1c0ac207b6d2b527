//! The contract's vocabulary, shared by every transport and free of any of them: the
//! error codes (JSON errors and WebSocket `error` frames alike) and the reasons the
//! server closes a WebSocket (docs/protocol.md).

use serde::Serialize;

/// The machine-readable `code` of an error (docs/protocol.md, "Conventions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    RateLimited,
    /// Storage (or another dependency) is down for a moment: retry.
    Unavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the server closes a WebSocket (or ends an event stream): each with the close
/// code a client acts on and a short description for people reading logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The login ended (logout on any device or node): go to the login page.
    LoggedOut,
    /// The connection did not read fast enough: reconnect and resume with `since`.
    TooSlow,
    /// History could not be read for a resuming event stream: reconnect later.
    StorageUnavailable,
    /// A frame (or fragmented message) over `max_frame_bytes`.
    TooLarge,
    /// Text that is not UTF-8.
    InvalidText,
}

impl CloseReason {
    /// The WebSocket close code (RFC 6455 section 7.4.1): a client tells them apart
    /// by this, never by the description's text.
    pub fn code(self) -> u16 {
        match self {
            CloseReason::LoggedOut => 1008,
            CloseReason::TooSlow => 1013,
            CloseReason::StorageUnavailable => 1011,
            CloseReason::TooLarge => 1009,
            CloseReason::InvalidText => 1007,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            CloseReason::LoggedOut => "logged out",
            CloseReason::TooSlow => "too slow: reconnect and resume with since",
            CloseReason::StorageUnavailable => "storage unavailable: reconnect later",
            CloseReason::TooLarge => "frame too large",
            CloseReason::InvalidText => "text must be UTF-8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_the_contract_spells_them() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::TooLarge,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
