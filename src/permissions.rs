//! Who may do what in a room (docs/protocol.md, "Rooms"): every rule in one place, as
//! pure functions of what the caller, and the person acted on, are in the room. The
//! services ask here for the pages, the JSON API and event streams; the room actor for
//! WebSocket joins; the group-commit writer for every send and change, inside its
//! transaction. What someone is in a room (a [`Standing`]) is read from the database
//! at the moment of asking, so a change is in effect on every node as soon as it is
//! committed.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, ToSql};
use diesel::sql_types::Text;
use serde::Serialize;

use crate::ids::UserId;

/// A member's role in a room: stored as its name in `room_members.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, AsExpression, FromSqlRow, utoipa::ToSchema)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created the room.
    Owner,
    Moderator,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Moderator => "moderator",
            Role::Member => "member",
        }
    }
}

impl<DB: Backend> FromSql<Text, DB> for Role
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        match String::from_sql(bytes)?.as_str() {
            "owner" => Ok(Role::Owner),
            "moderator" => Ok(Role::Moderator),
            "member" => Ok(Role::Member),
            other => Err(format!("unknown role {other:?}").into()),
        }
    }
}

impl<DB: Backend> ToSql<Text, DB> for Role
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut serialize::Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

/// What kind of room a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomFacts {
    /// Private or direct: members only.
    pub members_only: bool,
    /// A two-person room: nobody moderates it, nobody joins it by invite.
    pub direct: bool,
    /// `lobby`, which exists from the first start and is never deleted.
    pub lobby: bool,
}

/// What one user is in one room at the moment of asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub user_id: UserId,
    /// The membership's role; `None` when not a member.
    pub role: Option<Role>,
    /// A server administrator acts as owner in every room.
    pub admin: bool,
    /// Banned from the room now.
    pub banned: bool,
    /// Muted in the room until then.
    pub muted_until: Option<NaiveDateTime>,
}

/// What someone wants to do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See, join, read history, list members, follow the event stream, mark read.
    Read,
    /// Send, edit (one's own) or react.
    Write,
    /// Delete one's own message.
    DeleteOwn,
    /// Delete someone else's message.
    DeleteAny,
    SetTopic,
    /// Create, list and revoke invites.
    Invite,
    /// Mute, unmute, ban and unban (who may be acted on: [`may_act_on`]).
    Moderate,
    ReadModerationLog,
    GiveRoles,
    DeleteRoom,
}

/// Why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// To this user the room does not exist (a private or direct room they are not in).
    Missing,
    /// The room exists and the answer is no, for this reason.
    Forbidden(String),
}

impl Denied {
    fn forbidden(why: impl Into<String>) -> Denied {
        Denied::Forbidden(why.into())
    }
}

/// How far up someone is: nobody acts on someone at their own height or above.
fn rank(standing: &Standing) -> u8 {
    match (standing.admin, standing.role) {
        (true, _) | (_, Some(Role::Owner)) => 3,
        (_, Some(Role::Moderator)) => 2,
        _ => 1,
    }
}

impl Standing {
    /// The owner, or an administrator acting as one.
    pub fn acts_as_owner(&self) -> bool {
        rank(self) == 3
    }

    /// The owner, a moderator, or an administrator.
    pub fn moderates(&self) -> bool {
        rank(self) >= 2
    }

    /// Muted at `now`: until when.
    pub fn muted_at(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.muted_until.filter(|until| *until > now)
    }
}

/// The message a muted user gets.
pub fn muted_message(until: &NaiveDateTime) -> String {
    format!("you are muted in this room until {}", crate::models::rfc3339(until))
}

pub const BANNED: &str = "you are banned from this room";

/// May `who` do `action` in this room at `now`?
pub fn may(room: RoomFacts, who: &Standing, action: Action, now: NaiveDateTime) -> Result<(), Denied> {
    if who.banned {
        return Err(Denied::forbidden(BANNED));
    }
    // An administrator may open a private room by name, but is no third person in a DM.
    let admitted = who.role.is_some() || (who.admin && !room.direct);
    if room.members_only && !admitted {
        return Err(Denied::Missing);
    }
    let moderation = |who: &Standing, what: &str| {
        if room.direct {
            Err(Denied::forbidden("a direct room has no moderators"))
        } else if who.moderates() {
            Ok(())
        } else {
            Err(Denied::forbidden(format!("only the room's owner and moderators {what}")))
        }
    };
    match action {
        Action::Read | Action::DeleteOwn => Ok(()),
        Action::Write => match who.muted_at(now) {
            Some(until) => Err(Denied::Forbidden(muted_message(&until))),
            None => Ok(()),
        },
        Action::DeleteAny => moderation(who, "delete other people's messages"),
        Action::SetTopic => moderation(who, "set the topic"),
        Action::Invite => moderation(who, "manage invites"),
        Action::Moderate => moderation(who, "mute and ban"),
        Action::ReadModerationLog => moderation(who, "read the moderation log"),
        Action::GiveRoles if room.direct => Err(Denied::forbidden("a direct room has no roles to give")),
        Action::GiveRoles if !who.acts_as_owner() => Err(Denied::forbidden("only the room's owner gives roles")),
        Action::GiveRoles => Ok(()),
        Action::DeleteRoom if room.lobby => Err(Denied::forbidden("the lobby cannot be deleted")),
        Action::DeleteRoom if room.direct => Err(Denied::forbidden("a direct room cannot be deleted")),
        Action::DeleteRoom if !who.acts_as_owner() => Err(Denied::forbidden("only the room's owner deletes it")),
        Action::DeleteRoom => Ok(()),
    }
}

/// May `who`, who moderates the room, mute or ban `target`? Nobody acts on the owner
/// or on themselves; moderators do not act on moderators (nor on administrators).
pub fn may_act_on(who: &Standing, target: &Standing) -> Result<(), Denied> {
    if who.user_id == target.user_id {
        return Err(Denied::forbidden("you cannot do this to yourself"));
    }
    if target.role == Some(Role::Owner) {
        return Err(Denied::forbidden("nobody acts on the room's owner"));
    }
    if rank(target) >= rank(who) {
        return Err(Denied::forbidden("moderators do not act on moderators"));
    }
    Ok(())
}

/// May the owner (or an administrator) give `target` a role? The owner's never changes.
pub fn may_give_role_to(target: &Standing) -> Result<(), Denied> {
    match target.role {
        None => Err(Denied::Missing),
        Some(Role::Owner) => Err(Denied::forbidden("the owner's role does not change")),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: RoomFacts = RoomFacts { members_only: false, direct: false, lobby: false };
    const PRIVATE: RoomFacts = RoomFacts { members_only: true, direct: false, lobby: false };
    const DIRECT: RoomFacts = RoomFacts { members_only: true, direct: true, lobby: false };
    const LOBBY: RoomFacts = RoomFacts { members_only: false, direct: false, lobby: true };

    fn now() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap().naive_utc()
    }

    fn standing(id: i64, role: Option<Role>) -> Standing {
        Standing { user_id: UserId(id), role, ..Standing::default() }
    }

    fn owner() -> Standing {
        standing(1, Some(Role::Owner))
    }
    fn moderator() -> Standing {
        standing(2, Some(Role::Moderator))
    }
    fn member() -> Standing {
        standing(3, Some(Role::Member))
    }
    fn outsider() -> Standing {
        standing(4, None)
    }
    fn admin() -> Standing {
        Standing { admin: true, ..standing(5, None) }
    }

    fn allowed(room: RoomFacts, who: &Standing, action: Action) -> bool {
        may(room, who, action, now()).is_ok()
    }

    #[test]
    fn a_private_room_is_missing_to_outsiders_and_open_to_members() {
        for action in [Action::Read, Action::Write, Action::Invite, Action::DeleteRoom] {
            assert_eq!(may(PRIVATE, &outsider(), action, now()), Err(Denied::Missing), "{action:?}");
        }
        assert!(allowed(PRIVATE, &member(), Action::Read) && allowed(PRIVATE, &member(), Action::Write));
        assert!(allowed(PUBLIC, &outsider(), Action::Read) && allowed(PUBLIC, &outsider(), Action::Write));
        assert!(allowed(PRIVATE, &admin(), Action::Read), "an administrator acts as owner everywhere");
        assert_eq!(may(DIRECT, &admin(), Action::Read, now()), Err(Denied::Missing), "but is no third person in a DM");
    }

    #[test]
    fn a_ban_shuts_everything_even_in_public_rooms() {
        let banned = Standing { banned: true, ..member() };
        for room in [PUBLIC, PRIVATE] {
            for action in [Action::Read, Action::Write, Action::DeleteOwn] {
                assert_eq!(may(room, &banned, action, now()), Err(Denied::Forbidden(BANNED.into())));
            }
        }
    }

    #[test]
    fn a_mute_stops_writing_until_it_ends_and_no_longer() {
        let later = now() + chrono::Duration::minutes(5);
        let muted = Standing { muted_until: Some(later), ..member() };
        let Err(Denied::Forbidden(why)) = may(PUBLIC, &muted, Action::Write, now()) else { panic!("muted") };
        assert!(why.contains(&crate::models::rfc3339(&later)), "{why}");
        assert!(allowed(PUBLIC, &muted, Action::Read) && allowed(PUBLIC, &muted, Action::DeleteOwn));
        assert!(may(PUBLIC, &muted, Action::Write, later).is_ok(), "lifts by itself");
    }

    #[test]
    fn moderation_is_for_owners_moderators_and_administrators() {
        for action in [Action::DeleteAny, Action::SetTopic, Action::Invite, Action::Moderate, Action::ReadModerationLog]
        {
            for who in [owner(), moderator(), admin()] {
                assert!(allowed(PUBLIC, &who, action), "{who:?} {action:?}");
            }
            for who in [member(), outsider()] {
                assert!(matches!(may(PUBLIC, &who, action, now()), Err(Denied::Forbidden(_))), "{who:?} {action:?}");
            }
            assert!(!allowed(DIRECT, &member(), action), "nobody moderates a direct room");
        }
    }

    #[test]
    fn roles_and_deletion_are_the_owners() {
        for action in [Action::GiveRoles, Action::DeleteRoom] {
            assert!(allowed(PUBLIC, &owner(), action) && allowed(PUBLIC, &admin(), action));
            assert!(!allowed(PUBLIC, &moderator(), action) && !allowed(PUBLIC, &member(), action));
            assert!(!allowed(DIRECT, &member(), action));
        }
        assert!(!allowed(LOBBY, &admin(), Action::DeleteRoom), "the lobby stays");
        assert!(allowed(LOBBY, &admin(), Action::Moderate), "an administrator moderates the lobby");
    }

    #[test]
    fn nobody_acts_on_the_owner_themselves_or_their_equals() {
        assert!(may_act_on(&owner(), &moderator()).is_ok());
        assert!(may_act_on(&owner(), &member()).is_ok());
        assert!(may_act_on(&moderator(), &member()).is_ok());
        assert!(may_act_on(&moderator(), &outsider()).is_ok(), "a ban may come before a join");
        assert!(may_act_on(&admin(), &moderator()).is_ok());
        assert!(may_act_on(&moderator(), &owner()).is_err());
        assert!(may_act_on(&admin(), &owner()).is_err(), "not even an administrator");
        assert!(may_act_on(&moderator(), &Standing { user_id: UserId(9), ..moderator() }).is_err());
        assert!(may_act_on(&moderator(), &admin()).is_err());
        assert!(may_act_on(&owner(), &owner()).is_err());
        assert!(may_act_on(&moderator(), &moderator()).is_err(), "yourself");
    }

    #[test]
    fn the_owners_role_never_changes() {
        assert!(may_give_role_to(&member()).is_ok() && may_give_role_to(&moderator()).is_ok());
        assert_eq!(may_give_role_to(&outsider()), Err(Denied::Missing));
        assert!(matches!(may_give_role_to(&owner()), Err(Denied::Forbidden(_))));
    }
}
