//! Moderation reaching live connections: frames for one room or one user in it (a
//! role, a topic, a mute), connections taken out of a room (a ban, a deleted room),
//! and a disabled account's connections closed; here and, through the broker, on every
//! other node.

use super::*;

impl RoomHub {
    /// A frame to every live connection in the room, or to one user's there.
    pub(super) fn frame_to_room(&mut self, room_id: RoomId, text: ByteString, only_user: Option<UserId>) {
        let Some(user_id) = only_user else { return self.broadcast(room_id, Frame::plain(text)) };
        let batch: Batch = Arc::from([Arc::new(Frame::plain(text))]);
        let targets: Vec<ConnId> = self
            .registry
            .subscribers(room_id)
            .filter(|(_, s)| s.user_id == user_id && matches!(s.state, SubState::Live))
            .map(|(conn, _)| conn)
            .collect();
        for conn in targets {
            self.deliver(conn, batch.clone());
        }
    }

    /// Takes a user's connections (or everyone's) out of a room, each told why by
    /// `text`. An event stream left with no room ends. `forget`: the room is gone.
    pub(super) fn remove_from_room(
        &mut self,
        room_id: RoomId,
        user_id: Option<UserId>,
        text: ByteString,
        forget: bool,
    ) {
        let batch: Batch = Arc::from([Arc::new(Frame::for_streams_too("removed", text))]);
        let targets: Vec<ConnId> = self
            .registry
            .subscribers(room_id)
            .filter(|(_, s)| user_id.is_none_or(|u| s.user_id == u))
            .map(|(conn, _)| conn)
            .collect();
        for conn in targets {
            self.deliver(conn, batch.clone());
            self.unsubscribe(conn, room_id);
            let stream_done = self.connections.get(&conn).is_some_and(|c| c.outbox.is_event_stream())
                && self.registry.rooms_of(conn).is_empty();
            if stream_done {
                self.drop_connection(conn, None);
            }
        }
        if forget {
            self.known_rooms.retain(|_, info| info.id != room_id);
        }
    }

    /// Closes every connection of a user on this node, or all but one login's.
    pub(super) fn end_user(&mut self, user_id: UserId, except_login: Option<&str>) {
        let conns: Vec<ConnId> = self
            .by_user
            .get(&user_id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|conn| {
                except_login.is_none_or(|keep| self.connections.get(conn).is_some_and(|c| c.login_id != keep))
            })
            .collect();
        for conn in conns {
            self.drop_connection(conn, Some(CloseReason::LoggedOut));
        }
    }

    /// A user's nickname or avatar changed: their connections here carry the new self,
    /// and every room served here where they are present (here or elsewhere) gets a
    /// `user` frame.
    pub(super) fn user_changed(&mut self, user: PublicUser) {
        if let Some(conns) = self.by_user.get(&user.id) {
            for conn in conns {
                if let Some(c) = self.connections.get_mut(conn) {
                    c.user = user.clone();
                }
            }
        }
        let mut present = Vec::new();
        for (room_id, room) in &mut self.rooms {
            let mut here = false;
            if let Some(entry) = room.online.get_mut(&user.id) {
                entry.0 = user.clone();
                here = true;
            }
            if let Some(entry) = room.remote_online.get_mut(&user.id) {
                *entry = user.clone();
                here = true;
            }
            if here {
                present.push(*room_id);
            }
        }
        let frame = protocol::user_frame(&user);
        for room_id in present {
            self.broadcast(room_id, Frame::plain(frame.clone()));
        }
    }
}

impl Handler<RoomFrame> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: RoomFrame, _: &mut Context<Self>) {
        self.frame_to_room(msg.room_id, msg.text.clone(), msg.only_user);
        let node = self.broker.node().to_owned();
        let (room_id, text, only_user) = (msg.room_id, msg.text.to_string(), msg.only_user);
        self.publish(ClusterEvent::RoomFrame { node, room_id, text, only_user });
    }
}

impl Handler<RemoveFromRoom> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: RemoveFromRoom, _: &mut Context<Self>) {
        self.remove_from_room(msg.room_id, msg.user_id, msg.text.clone(), msg.forget);
        let node = self.broker.node().to_owned();
        let RemoveFromRoom { room_id, user_id, text, forget } = msg;
        self.publish(ClusterEvent::Removed { node, room_id, user_id, text: text.to_string(), forget });
    }
}

impl Handler<EndUser> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: EndUser, _: &mut Context<Self>) {
        self.end_user(msg.user_id, msg.except_login.as_deref());
        let node = self.broker.node().to_owned();
        self.publish(ClusterEvent::EndUser { node, user_id: msg.user_id, except_login: msg.except_login });
    }
}

impl Handler<UserChanged> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: UserChanged, _: &mut Context<Self>) {
        self.user_changed(msg.user.clone());
        self.publish(ClusterEvent::UserChanged { node: self.broker.node().to_owned(), user: msg.user });
    }
}
