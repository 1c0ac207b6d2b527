//! A connection's requests (send, typing, history, read...) and logins that end.

use super::*;

impl RoomHub {
    // ---- requests ----

    /// The room a connection joined under this name.
    pub(super) fn joined_room(&self, conn: ConnId, name: &str) -> Option<RoomId> {
        self.registry.room_by_name(conn, name)
    }

    /// Answers a request about a room the connection is not in: `not_found` when the
    /// room does not exist, `forbidden` (join first) when it does.
    pub(super) fn refuse_not_joined(
        &mut self,
        ctx: &mut Context<Self>,
        conn: ConnId,
        name: String,
        client_id: Option<String>,
    ) {
        let Some(user_id) = self.connections.get(&conn).map(|c| c.user.id) else { return };
        // Someone else's direct room does not exist, as far as an outsider can tell.
        let known = self.known_rooms.get(name.as_str()).and_then(|info| info.admits(user_id));
        let lookup = name.clone();
        let answer = move |hub: &mut RoomHub, denied: Option<Denied>| {
            let error = match denied {
                None => FrameError::new(ErrorCode::Forbidden, format!("join the room {name:?} first")),
                Some(denied) => denied_error(denied),
            };
            hub.send_error(conn, error.in_room(&name).for_client_id(client_id.as_deref()));
        };
        if known == Some(false) {
            return answer(self, Some(Denied::Missing));
        }
        self.spawn_db(
            ctx,
            move |db| db.get().and_then(|mut c| Room::open_for(&mut c, &lookup, user_id, Action::Read)),
            move |hub, _, found| answer(hub, found.ok().and_then(|r| r.err())),
        );
    }

    pub(super) fn handle_request(&mut self, ctx: &mut Context<Self>, conn: ConnId, request: Request) {
        if let Some(held) = self.connections.get_mut(&conn).and_then(|c| c.held.as_mut()) {
            if held.len() < HELD_REQUESTS_MAX {
                return held.push_back(request);
            }
            let client_id = match &request {
                Request::Send { client_id, .. } => Some(client_id.as_str()),
                Request::Change { client_id, .. } => client_id.as_deref(),
                _ => None,
            };
            let error = FrameError::new(ErrorCode::RateLimited, "too many requests while a room is being joined");
            return self.send_error(conn, error.for_client_id(client_id));
        }
        match request {
            Request::Join { room, since } => self.join(ctx, conn, room, since),
            Request::Leave { room } => self.leave(ctx, conn, room),
            Request::Send { room, text, client_id, reply_to } => {
                self.send(ctx, conn, room, NewText { text, client_id, reply_to })
            }
            Request::Change { room, message_id, kind, client_id } => {
                self.change(ctx, conn, room, message_id, kind, client_id)
            }
            Request::Typing { room } => self.typing(ctx, conn, room),
            Request::History { room, before, limit } => self.history(ctx, conn, room, before, limit),
            Request::Read { room, message_id } => self.read(ctx, conn, room, message_id),
        }
    }

    fn leave(&mut self, ctx: &mut Context<Self>, conn: ConnId, room: String) {
        let Some(room_id) = self.joined_room(conn, &room) else {
            return self.refuse_not_joined(ctx, conn, room, None);
        };
        self.unsubscribe(conn, room_id);
    }

    /// A send goes to the writer; its sender hears back once it is stored.
    fn send(&mut self, ctx: &mut Context<Self>, conn: ConnId, room: String, new: NewText) {
        let Some(room_id) = self.joined_room(conn, &room) else {
            return self.refuse_not_joined(ctx, conn, room, Some(new.client_id));
        };
        let user = self.connections[&conn].user.clone();
        let room_name = self.rooms.get(&room_id).map_or_else(|| Arc::from(room.as_str()), |r| r.info.name.clone());
        let waiter = Waiter::Connection { conn, room: room_name, client_id: Some(new.client_id.clone()) };
        let message = NewMessage {
            room_id,
            user_id: user.id,
            author: user.clone(),
            body: new.text,
            client_id: new.client_id,
            reply_to: new.reply_to,
        };
        self.submit(Write::Send(message), waiter);
    }

    /// An edit, delete or reaction goes to the writer, in the same commit order as
    /// sends; the `update` frame to everyone in the room is its acknowledgement.
    fn change(
        &mut self,
        ctx: &mut Context<Self>,
        conn: ConnId,
        room: String,
        message_id: MessageId,
        kind: ChangeKind,
        client_id: Option<String>,
    ) {
        let Some(room_id) = self.joined_room(conn, &room) else {
            return self.refuse_not_joined(ctx, conn, room, client_id);
        };
        let user_id = self.connections[&conn].user.id;
        let room_name = self.rooms.get(&room_id).map_or_else(|| Arc::from(room.as_str()), |r| r.info.name.clone());
        let waiter = Waiter::Connection { conn, room: room_name, client_id };
        self.submit(Write::Change(Change { room_id, message_id, user_id, kind }), waiter);
    }

    fn typing(&mut self, ctx: &mut Context<Self>, conn: ConnId, room: String) {
        let Some(room_id) = self.joined_room(conn, &room) else {
            return self.refuse_not_joined(ctx, conn, room, None);
        };
        let Some(c) = self.connections.get_mut(&conn) else { return };
        let now = Instant::now();
        if c.last_typing.get(&room_id).is_some_and(|t| now.duration_since(*t) < TYPING_EVERY) {
            return;
        }
        c.last_typing.insert(room_id, now);
        let user = c.user.clone();
        if self.typing_heard(room_id) {
            self.broadcast_except_user(room_id, user.id, Frame::plain(protocol::typing_frame(&room, &user)));
            let node = self.broker.node().to_owned();
            self.publish(ClusterEvent::Typing { node, room_id, room, user });
        }
    }

    fn history(
        &mut self,
        ctx: &mut Context<Self>,
        conn: ConnId,
        room: String,
        before: Option<MessageId>,
        limit: usize,
    ) {
        let Some(room_id) = self.joined_room(conn, &room) else {
            return self.refuse_not_joined(ctx, conn, room, None);
        };
        let page = before.map_or(Page::Latest, Page::Before);
        let user_id = self.connections[&conn].user.id;
        self.spawn_db(
            ctx,
            move |db| {
                let mut c = db.get()?;
                // A ban made on another node may not have reached this one yet.
                if banned_now(&mut c, room_id, user_id)? {
                    return Ok(None);
                }
                Message::page(&mut c, room_id, page, limit).map(Some)
            },
            move |hub, _, result| match result {
                Ok(None) => {
                    hub.send_error(conn, FrameError::new(ErrorCode::Forbidden, permissions::BANNED).in_room(&room))
                }
                Ok(Some((messages, has_more))) => {
                    let frame = protocol::history_frame(&room, &messages, has_more);
                    hub.send_to(conn, Frame::plain(frame));
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading history failed");
                    hub.send_error(conn, FrameError::unavailable().in_room(&room));
                }
            },
        );
    }

    fn read(&mut self, ctx: &mut Context<Self>, conn: ConnId, room: String, message_id: MessageId) {
        let Some(room_id) = self.joined_room(conn, &room) else {
            return self.refuse_not_joined(ctx, conn, room, None);
        };
        let user_id = self.connections[&conn].user.id;
        self.spawn_db(
            ctx,
            move |db| {
                let mut c = db.get()?;
                if banned_now(&mut c, room_id, user_id)? {
                    return Ok(Err(()));
                }
                RoomMember::mark_read(&mut c, room_id, user_id, message_id).map(Ok)
            },
            move |hub, _, result| match result {
                Ok(Err(())) => {
                    hub.send_error(conn, FrameError::new(ErrorCode::Forbidden, permissions::BANNED).in_room(&room))
                }
                Ok(Ok(Some(message_id))) => {
                    hub.tell_devices(user_id, Some(conn), &room, message_id);
                    let node = hub.broker.node().to_owned();
                    hub.publish(ClusterEvent::Read { node, user_id, room, message_id });
                }
                Ok(Ok(None)) => {}
                Err(e) => {
                    tracing::error!(error = %e, "moving a read marker failed");
                    hub.send_error(conn, FrameError::unavailable().in_room(&room));
                }
            },
        );
    }

    /// Closes this node's connections of a login that ended.
    pub(super) fn end_login(&mut self, login_id: &str) {
        let conns: Vec<ConnId> =
            self.connections.iter().filter(|(_, c)| c.login_id == login_id).map(|(id, _)| *id).collect();
        for conn in conns {
            self.drop_connection(conn, Some(CloseReason::LoggedOut));
        }
    }

    /// A read marker moved: every other connection of the user hears of it.
    pub(super) fn tell_devices(&mut self, user_id: UserId, except: Option<ConnId>, room: &str, message_id: MessageId) {
        let Some(conns) = self.by_user.get(&user_id) else { return };
        let targets: Vec<ConnId> = conns.iter().copied().filter(|c| Some(*c) != except).collect();
        if targets.is_empty() {
            return;
        }
        let batch: Batch = Arc::from([Arc::new(Frame::plain(protocol::read_frame(room, message_id)))]);
        for conn in targets {
            if self.connections.get(&conn).is_some_and(|c| !c.outbox.is_event_stream()) {
                self.deliver(conn, batch.clone());
            }
        }
    }
}

/// A send's text and keys.
pub(super) struct NewText {
    text: String,
    client_id: String,
    reply_to: Option<MessageId>,
}

/// Whether the user is banned from the room now.
fn banned_now(c: &mut crate::db::DbConn, room_id: RoomId, user_id: UserId) -> DbResult<bool> {
    moderation::Sanctions::in_force(c, room_id, user_id, moderation::SanctionKind::Ban, crate::models::now())
}
