use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::serialize::{self, ToSql};
use diesel::sql_types::Text;
use serde::Serialize;

use super::counts::Counts;
use super::schema::{room_members, rooms, users};
use super::user::PublicUser;
use crate::db::{DbConn, DbError, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};
use crate::permissions::{self, Action, Denied, Standing};

/// What kind of room: stored as its name (`public`, `direct`) in `rooms.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, AsExpression, FromSqlRow, utoipa::ToSchema)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    /// Anybody may read and post.
    Public,
    /// Two people's private room: to anyone else it does not exist.
    Direct,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Public => "public",
            RoomKind::Direct => "direct",
        }
    }
}

impl<DB: Backend> FromSql<Text, DB> for RoomKind
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        match String::from_sql(bytes)?.as_str() {
            "public" => Ok(RoomKind::Public),
            "direct" => Ok(RoomKind::Direct),
            other => Err(format!("unknown room kind {other:?}").into()),
        }
    }
}

impl<DB: Backend> ToSql<Text, DB> for RoomKind
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut serialize::Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

/// What kind a room is to the people in it: a private room is stored as a public-kind
/// room with its `private` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShownKind {
    Public,
    Private,
    Direct,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rooms)]
pub struct Room {
    pub id: RoomId,
    pub name: String,
    pub kind: RoomKind,
    /// The owner (`lobby` has none; a direct room's is whoever opened it, not shown).
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub last_message_id: MessageId,
    /// Seen, read and joined by its members only.
    pub private: bool,
    pub topic: String,
}

/// A room as one user sees it: the room object of docs/protocol.md.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoomSummary {
    pub name: String,
    pub kind: ShownKind,
    /// What to call the room: its name, or for a direct room the other person's nickname.
    pub title: String,
    pub topic: String,
    /// Who owns the room (none for `lobby` and direct rooms).
    pub owner: Option<PublicUser>,
    /// The caller's role, when a member.
    pub role: Option<Role>,
    /// Others' messages after the caller's read marker, up to `COUNT_CAP`.
    pub unread: i64,
    /// More than `unread` are unread.
    pub unread_capped: bool,
    /// Messages after the read marker that mention the caller, up to `COUNT_CAP`.
    pub mentions: i64,
    pub mentions_capped: bool,
    pub last_message_id: MessageId,
}

impl Room {
    pub fn is_direct(&self) -> bool {
        self.kind == RoomKind::Direct
    }

    pub fn shown_kind(&self) -> ShownKind {
        match (self.kind, self.private) {
            (RoomKind::Direct, _) => ShownKind::Direct,
            (RoomKind::Public, true) => ShownKind::Private,
            (RoomKind::Public, false) => ShownKind::Public,
        }
    }

    /// Open to members only: private and direct rooms.
    pub fn members_only(&self) -> bool {
        self.private || self.is_direct()
    }

    pub fn find_by_name(conn: &mut DbConn, name: &str) -> DbResult<Option<Room>> {
        db_run!(conn, |c| rooms::table.filter(rooms::name.eq(name)).select(Room::as_select()).first(c).optional())
            .map_err(Into::into)
    }

    pub fn by_id(conn: &mut DbConn, id: RoomId) -> DbResult<Option<Room>> {
        db_run!(conn, |c| rooms::table.find(id).select(Room::as_select()).first(c).optional()).map_err(Into::into)
    }

    /// Creates a public or private room owned by its creator, who is its first member
    /// (one transaction); `Ok(None)` when the name is taken (the unique key decides).
    pub fn create(conn: &mut DbConn, name: &str, private: bool, created_by: UserId) -> DbResult<Option<Room>> {
        let created_at = super::now();
        let values = (
            rooms::name.eq(name),
            rooms::kind.eq(RoomKind::Public),
            rooms::created_by.eq(Some(created_by)),
            rooms::created_at.eq(created_at),
            rooms::last_message_id.eq(MessageId::NONE),
            rooms::private.eq(private),
        );
        let inserted = conn.write_transaction(|conn| {
            let id = db_run!(
                conn,
                sqlite
                    | c
                    | diesel::insert_into(rooms::table).values(values).returning(rooms::id).get_result::<RoomId>(c),
                mysql | c | {
                    diesel::insert_into(rooms::table).values(values).execute(c)?;
                    diesel::select(super::last_insert_id()).get_result::<i64>(c).map(RoomId)
                }
            )?;
            let owner = (
                room_members::room_id.eq(id),
                room_members::user_id.eq(created_by),
                room_members::joined_at.eq(created_at),
                room_members::last_read_message_id.eq(MessageId::NONE),
                room_members::role.eq(Role::Owner),
            );
            db_run!(conn, |c| diesel::insert_into(room_members::table).values(owner).execute(c))?;
            Ok(id)
        });
        match inserted {
            Ok(id) => Ok(Some(Room {
                id,
                name: name.to_owned(),
                kind: RoomKind::Public,
                created_by: Some(created_by),
                created_at,
                last_message_id: MessageId::NONE,
                private,
                topic: String::new(),
            })),
            Err(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets the topic; whether it changed.
    pub fn set_topic(conn: &mut DbConn, room_id: RoomId, topic: &str) -> DbResult<bool> {
        let changed = db_run!(conn, |c| diesel::update(rooms::table.find(room_id).filter(rooms::topic.ne(topic)))
            .set(rooms::topic.eq(topic))
            .execute(c))?;
        Ok(changed > 0)
    }

    /// Deletes a room with everything in it: messages, memberships, invites, mutes,
    /// bans and its moderation log go with it (the foreign keys cascade).
    pub fn delete(conn: &mut DbConn, room_id: RoomId) -> DbResult<()> {
        conn.write_transaction(|conn| {
            super::search::SearchIndex::remove_room(conn, room_id)?;
            db_run!(conn, |c| diesel::delete(rooms::table.find(room_id)).execute(c))?;
            Ok(())
        })
    }

    pub fn last_message_id(conn: &mut DbConn, room_id: RoomId) -> DbResult<MessageId> {
        db_run!(conn, |c| rooms::table.find(room_id).select(rooms::last_message_id).first(c)).map_err(Into::into)
    }

    /// The user ids of a room's members.
    pub fn member_ids(conn: &mut DbConn, room_id: RoomId) -> DbResult<Vec<UserId>> {
        db_run!(conn, |c| room_members::table
            .filter(room_members::room_id.eq(room_id))
            .select(room_members::user_id)
            .load(c))
        .map_err(Into::into)
    }

    /// The two-person room of two users: created once, whoever asks first; racing calls
    /// meet on the unique name. The room and its two members are written in one
    /// transaction, so that nobody can see the room without its members (and, say,
    /// cache it as a room nobody may enter). Returns the room and whether this call
    /// created it.
    pub fn direct_between(conn: &mut DbConn, a: UserId, b: UserId) -> DbResult<(Room, bool)> {
        let (low, high) = if a < b { (a, b) } else { (b, a) };
        let name = direct_room_name(low, high);
        if let Some(room) = Room::find_by_name(conn, &name)? {
            return Ok((room, false));
        }
        let created_at = super::now();
        let room_values = (
            rooms::name.eq(&name),
            rooms::kind.eq(RoomKind::Direct),
            rooms::created_by.eq(Some(a)),
            rooms::created_at.eq(created_at),
            rooms::last_message_id.eq(MessageId::NONE),
        );
        let members = |room_id: RoomId| {
            [low, high].map(|user_id| {
                (
                    room_members::room_id.eq(room_id),
                    room_members::user_id.eq(user_id),
                    room_members::joined_at.eq(created_at),
                    room_members::last_read_message_id.eq(MessageId::NONE),
                )
            })
        };
        let inserted = db_run!(
            conn,
            sqlite
                | c
                | c.immediate_transaction(|c| {
                    let id = diesel::insert_into(rooms::table)
                        .values(room_values)
                        .returning(rooms::id)
                        .get_result::<RoomId>(c)?;
                    diesel::insert_into(room_members::table).values(&members(id)[..]).execute(c)?;
                    Ok(id)
                }),
            mysql
                | c
                | c.transaction(|c| {
                    diesel::insert_into(rooms::table).values(room_values).execute(c)?;
                    let id = RoomId(diesel::select(super::last_insert_id()).get_result::<i64>(c)?);
                    diesel::insert_into(room_members::table).values(&members(id)[..]).execute(c)?;
                    Ok(id)
                })
        );
        match inserted {
            Ok(id) => Ok((
                Room {
                    id,
                    name,
                    kind: RoomKind::Direct,
                    created_by: Some(a),
                    created_at,
                    last_message_id: MessageId::NONE,
                    private: false,
                    topic: String::new(),
                },
                true,
            )),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                let room = Room::find_by_name(conn, &name)?.ok_or(diesel::result::Error::NotFound)?;
                Ok((room, false))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every public room (but those the user is banned from), and the user's private
    /// and direct rooms, each as the user sees it (unread count, role).
    pub fn list_for(conn: &mut DbConn, user_id: UserId) -> DbResult<Vec<RoomSummary>> {
        let public: Vec<Room> = db_run!(conn, |c| rooms::table
            .filter(rooms::kind.eq(RoomKind::Public))
            .filter(rooms::private.eq(false))
            .order(rooms::id.asc())
            .select(Room::as_select())
            .load(c))?;
        // The user's private and direct rooms: those with a membership.
        let own: Vec<Room> = db_run!(conn, |c| rooms::table
            .inner_join(room_members::table.on(room_members::room_id.eq(rooms::id)))
            .filter(rooms::kind.eq(RoomKind::Direct).or(rooms::private.eq(true)))
            .filter(room_members::user_id.eq(user_id))
            .order(rooms::id.asc())
            .select(Room::as_select())
            .load(c))?;
        // A room someone is banned from is not theirs to see listed.
        let banned = super::moderation::Sanctions::banned_rooms(conn, user_id, super::now())?;
        let public: Vec<Room> = public.into_iter().filter(|r| !banned.contains(&r.id)).collect();
        let (private, direct): (Vec<Room>, Vec<Room>) = own.into_iter().partition(|r| r.private);
        let direct_ids: Vec<RoomId> = direct.iter().map(|r| r.id).collect();
        // The other member of each direct room, for its title.
        let partners: Vec<(RoomId, String)> = db_run!(conn, |c| room_members::table
            .inner_join(users::table.on(users::id.eq(room_members::user_id)))
            .filter(room_members::room_id.eq_any(&direct_ids))
            .filter(room_members::user_id.ne(user_id))
            .select((room_members::room_id, users::nickname))
            .load(c))?;
        let titled: Vec<(Room, String)> = public
            .into_iter()
            .chain(private)
            .chain(direct)
            .map(|room| {
                let partner = partners.iter().find(|(id, _)| *id == room.id && room.is_direct());
                let title = partner.map_or_else(|| room.name.clone(), |(_, n)| n.clone());
                (room, title)
            })
            .collect();
        let counts = Counts::for_user(conn, user_id, None)?;
        Room::summaries(conn, user_id, titled, &counts)
    }

    /// A page of the public room directory, by name: rooms whose name contains `q`
    /// (every one without), after the name `after`, at most `limit`, and whether more
    /// follow. Rooms the user is banned from are left out, as in their room list.
    pub fn directory(
        conn: &mut DbConn,
        user_id: UserId,
        q: &str,
        after: Option<&str>,
        limit: usize,
    ) -> DbResult<(Vec<RoomSummary>, bool)> {
        // LIKE's wildcards in `q` are literal characters here.
        let pattern = format!("%{}%", super::like_literal(&q.to_lowercase()));
        let banned = super::moderation::Sanctions::banned_rooms(conn, user_id, super::now())?;
        let mut found: Vec<Room> = db_run!(conn, |c| {
            let mut query = rooms::table
                .filter(rooms::kind.eq(RoomKind::Public))
                .filter(rooms::private.eq(false))
                .filter(rooms::id.ne_all(&banned))
                .order(rooms::name.asc())
                .limit(limit as i64 + 1)
                .select(Room::as_select())
                .into_boxed();
            if !q.is_empty() {
                query = query.filter(rooms::name.like(pattern.clone()).escape('!'));
            }
            if let Some(after) = after {
                query = query.filter(rooms::name.gt(after.to_owned()));
            }
            query.load(c)
        })?;
        let more = found.len() > limit;
        found.truncate(limit);
        let ids: Vec<RoomId> = found.iter().map(|r| r.id).collect();
        let counts = Counts::for_user(conn, user_id, Some(&ids))?;
        let titled = found.into_iter().map(|r| {
            let title = r.name.clone();
            (r, title)
        });
        Ok((Room::summaries(conn, user_id, titled.collect(), &counts)?, more))
    }

    /// One room as this user sees it, under `title`.
    pub fn describe(conn: &mut DbConn, room: Room, title: String, user_id: UserId) -> DbResult<RoomSummary> {
        let counts = Counts::for_user(conn, user_id, Some(&[room.id]))?;
        let mut summaries = Room::summaries(conn, user_id, vec![(room, title)], &counts)?;
        Ok(summaries.pop().expect("one room in, one out"))
    }

    /// Rooms as this user sees them: owners and the user's roles read in two queries.
    fn summaries(
        conn: &mut DbConn,
        user_id: UserId,
        rooms: Vec<(Room, String)>,
        counts: &HashMap<RoomId, Counts>,
    ) -> DbResult<Vec<RoomSummary>> {
        let ids: Vec<RoomId> = rooms.iter().map(|(r, _)| r.id).collect();
        let roles: Vec<(RoomId, Role)> = db_run!(conn, |c| room_members::table
            .filter(room_members::user_id.eq(user_id))
            .filter(room_members::room_id.eq_any(&ids))
            .select((room_members::room_id, room_members::role))
            .load(c))?;
        let owner_ids: Vec<UserId> =
            rooms.iter().filter(|(r, _)| !r.is_direct()).filter_map(|(r, _)| r.created_by).collect();
        let owners = super::user::User::shown_many(conn, &owner_ids)?;
        Ok(rooms
            .into_iter()
            .map(|(room, title)| {
                let owner = match (room.is_direct(), room.created_by) {
                    (false, Some(id)) => owners.get(&id).cloned(),
                    _ => None,
                };
                RoomSummary {
                    kind: room.shown_kind(),
                    title,
                    topic: room.topic,
                    owner,
                    role: roles.iter().find(|(id, _)| *id == room.id).map(|(_, role)| *role),
                    unread: counts.get(&room.id).map_or(0, |c| c.unread),
                    unread_capped: counts.get(&room.id).is_some_and(|c| c.unread_capped),
                    mentions: counts.get(&room.id).map_or(0, |c| c.mentions),
                    mentions_capped: counts.get(&room.id).is_some_and(|c| c.mentions_capped),
                    last_message_id: room.last_message_id,
                    name: room.name,
                }
            })
            .collect())
    }
}

impl Room {
    /// The room by name and what this user is in it, if the rules let them do `action`
    /// there (`crate::permissions::may`); else why not. To an outsider, a private or
    /// direct room is a room that does not exist.
    pub fn open_for(
        conn: &mut DbConn,
        name: &str,
        user_id: UserId,
        action: Action,
    ) -> DbResult<Result<(Room, Standing), Denied>> {
        let Some(room) = Room::find_by_name(conn, name)? else { return Ok(Err(Denied::Missing)) };
        let now = super::now();
        let standing = super::moderation::standing(conn, room.id, user_id, now)?;
        Ok(permissions::may(room.facts(), &standing, action, now).map(|()| (room, standing)))
    }
}

pub fn direct_room_name(low: UserId, high: UserId) -> String {
    format!("dm-{low}-{high}")
}

pub use super::room_member::{Role, RoomMember};
