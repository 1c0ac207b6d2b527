//! The ids of what the server stores, each its own type so that a room's id cannot be
//! passed where a user's is expected. On the wire and in the database they are plain
//! integers (`#[serde(transparent)]`, a BIGINT column).

use std::fmt;

use diesel_derive_newtype::DieselNewType;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, DieselNewType, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }
    };
}

id_type!(
    /// A registered person.
    UserId
);
id_type!(
    /// A room, public or direct.
    RoomId
);
id_type!(
    /// A stored message; also its position in the server-wide commit order (message
    /// ids increase in the order messages were stored, across all rooms).
    MessageId
);

impl MessageId {
    /// Before every message: "from the start", or "nothing read".
    pub const NONE: MessageId = MessageId(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_numbers_on_the_wire() {
        assert_eq!(serde_json::to_string(&RoomId(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<MessageId>("7").unwrap(), MessageId(7));
        assert!(serde_json::from_str::<UserId>("\"7\"").is_err());
        assert_eq!(UserId(3).to_string(), "3");
        assert!(MessageId(2) > MessageId::NONE);
    }
}
