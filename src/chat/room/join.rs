//! Joining rooms: a WebSocket `join` (history, then live with no gap) and an event
//! stream's rooms (paged history, then live).

use super::*;

impl RoomHub {
    // ---- joining ----

    pub(super) fn join(&mut self, ctx: &mut Context<Self>, conn: ConnId, name: String, since: Option<MessageId>) {
        if let Some(info) = self.known_rooms.get(name.as_str()).cloned() {
            return self.start_join(ctx, conn, info, since);
        }
        if crate::models::validate::room_name(&name).is_err() && !name.starts_with("dm-") {
            return self.send_error(conn, FrameError::new(ErrorCode::NotFound, "there is no such room").in_room(&name));
        }
        let lookup = name.clone();
        if let Some(c) = self.connections.get_mut(&conn) {
            c.held.get_or_insert_with(VecDeque::new);
        }
        self.spawn_db(
            ctx,
            move |db| -> DbResult<Option<RoomInfo>> {
                let mut c = db.get()?;
                let Some(room) = Room::find_by_name(&mut c, &lookup)? else { return Ok(None) };
                let direct_members = if room.is_direct() { Some(Room::member_ids(&mut c, room.id)?) } else { None };
                let private = room.private;
                Ok(Some(RoomInfo { id: room.id, name: Arc::from(room.name), direct_members, private }))
            },
            move |hub, ctx, result| {
                match result {
                    Ok(Some(info)) => {
                        // A direct room is created with its two members in one
                        // transaction; anything else read here is not cached.
                        if info.is_whole() {
                            hub.known_rooms.insert(info.name.clone(), info.clone());
                        }
                        hub.start_join(ctx, conn, info, since);
                    }
                    Ok(None) => hub
                        .send_error(conn, FrameError::new(ErrorCode::NotFound, "there is no such room").in_room(&name)),
                    Err(e) => {
                        tracing::error!(error = %e, "room lookup failed");
                        hub.send_error(conn, FrameError::unavailable().in_room(&name));
                    }
                }
                hub.release_held(ctx, conn);
            },
        );
    }

    /// Handles, in order, the requests that waited for a room lookup, until one of
    /// them starts another lookup (the rest then wait behind that one).
    pub(super) fn release_held(&mut self, ctx: &mut Context<Self>, conn: ConnId) {
        let Some(mut held) = self.connections.get_mut(&conn).and_then(|c| c.held.take()) else { return };
        while let Some(request) = held.pop_front() {
            self.handle_request(ctx, conn, request);
            match self.connections.get_mut(&conn) {
                Some(Connection { held: Some(waiting), .. }) => return waiting.extend(held),
                Some(_) => {}
                None => return,
            }
        }
    }

    /// Registers a connection in a room as loading: live message frames for it wait in
    /// a buffer until its history has been read. Returns false if it is gone. With
    /// `unsubscribe`, the only place that changes the registry.
    pub(super) fn begin_loading(&mut self, conn: ConnId, info: &RoomInfo, generation: u64) -> bool {
        let Some(user_id) = self.connections.get(&conn).map(|c| c.user.id) else { return false };
        let activated = !self.rooms.contains_key(&info.id);
        let clustered = self.broker.is_clustered();
        self.rooms.entry(info.id).or_insert_with(|| RoomState {
            info: info.clone(),
            online: HashMap::new(),
            remote_online: HashMap::new(),
            awaiting_remote: clustered.then(Vec::new),
        });
        let subscriber = self.registry.insert(conn, info.id, &info.name, || Subscriber {
            user_id,
            state: SubState::Live,
            online: false,
            last_sent: MessageId::NONE,
        });
        // A join again on the same connection starts over from its `since`.
        subscriber.state = SubState::Loading { generation, buffer: Vec::new() };
        subscriber.last_sent = MessageId::NONE;
        if activated && clustered {
            if let Some(addr) = &self.me {
                addr.do_send(RoomActivated { room_id: info.id });
            }
        }
        true
    }

    pub(super) fn is_loading(&self, conn: ConnId, room_id: RoomId, generation: u64) -> bool {
        matches!(
            self.registry.get(conn, room_id),
            Some(Subscriber { state: SubState::Loading { generation: g, .. }, .. }) if *g == generation
        )
    }

    /// Gives up a join whose history could not be read.
    pub(super) fn abort_loading(&mut self, conn: ConnId, room_id: RoomId) {
        self.unsubscribe(conn, room_id);
    }

    /// Turns a loading subscription live: counts its user online (announcing them if
    /// this is their first connection here) and returns the frames buffered meanwhile.
    pub(super) fn go_live(&mut self, conn: ConnId, room_id: RoomId) -> Vec<Arc<Frame>> {
        let Some(user) = self.connections.get(&conn).map(|c| c.user.clone()) else { return Vec::new() };
        let Some(room) = self.rooms.get_mut(&room_id) else { return Vec::new() };
        let Some(subscriber) = self.registry.get_mut(conn, room_id) else { return Vec::new() };
        let buffer = match std::mem::replace(&mut subscriber.state, SubState::Live) {
            SubState::Loading { buffer, .. } => buffer,
            SubState::Live => Vec::new(),
        };
        if !subscriber.online {
            subscriber.online = true;
            let entry = room.online.entry(user.id).or_insert_with(|| (user.clone(), 0));
            entry.1 += 1;
            if entry.1 == 1 {
                let known_elsewhere = room.remote_online.remove(&user.id).is_some();
                self.presence_changed(room_id, user, true, known_elsewhere);
            }
        }
        buffer
    }

    pub(super) fn set_last_sent(&mut self, conn: ConnId, room_id: RoomId, last_sent: MessageId) {
        if let Some(subscriber) = self.registry.get_mut(conn, room_id) {
            subscriber.last_sent = last_sent;
        }
    }

    pub(super) fn start_join(
        &mut self,
        ctx: &mut Context<Self>,
        conn: ConnId,
        info: RoomInfo,
        since: Option<MessageId>,
    ) {
        let Some(user_id) = self.connections.get(&conn).map(|c| c.user.id) else { return };
        if info.admits(user_id) == Some(false) {
            let error = FrameError::new(ErrorCode::NotFound, "there is no such room");
            return self.send_error(conn, error.in_room(&info.name));
        }
        let facts = info.facts();
        let generation = self.next_generation;
        self.next_generation += 1;
        self.begin_loading(conn, &info, generation);
        let (room_id, cap, latest) = (info.id, self.limits.resume_cap, self.limits.history_default);
        self.spawn_db(
            ctx,
            move |db| -> DbResult<Result<Admitted, Denied>> {
                let mut c = db.get()?;
                // The rules decide from what the user is in the room now: a private
                // room is entered by its members only, a ban shuts anyone out.
                let now = crate::models::now();
                let standing = moderation::standing(&mut c, room_id, user_id, now)?;
                if let Err(denied) = permissions::may(facts, &standing, Action::Read, now) {
                    return Ok(Err(denied));
                }
                RoomMember::enter(&mut c, room_id, user_id)?;
                // A `since` past the latest position (a database restored from a backup)
                // means "up to date": taken as is, it would filter out every new message.
                let since = match since {
                    Some(since) => Some(since.min(Message::sequence_top(&mut c)?)),
                    None => None,
                };
                let missed = match since {
                    Some(since) => Message::missed_since(&mut c, room_id, since, cap)?,
                    // Without `since` the latest page comes; older ones are paged with `history`.
                    None => Missed {
                        messages: Message::page(&mut c, room_id, Page::Latest, latest)?.0,
                        ..Missed::default()
                    },
                };
                Ok(Ok((missed, since, standing.muted_at(now))))
            },
            move |hub, _, result| {
                let (since, muted_until, result) = match result {
                    Ok(Ok((missed, clamped, muted_until))) => (clamped, muted_until, Ok(missed)),
                    Ok(Err(denied)) => return hub.refuse_join(conn, room_id, generation, denied),
                    Err(e) => (since, None, Err(e)),
                };
                hub.finish_join(room_id, ReadyJoin { conn, generation, since, muted_until, result })
            },
        );
    }

    /// A join the rules refuse: of a private room by someone not in it (what a missing
    /// room gets), or by someone banned from the room.
    fn refuse_join(&mut self, conn: ConnId, room_id: RoomId, generation: u64, denied: Denied) {
        if !self.is_loading(conn, room_id, generation) {
            return;
        }
        let name = self.room_name(room_id);
        self.abort_loading(conn, room_id);
        let error = denied_error(denied);
        self.send_error(
            conn,
            match name {
                Some(name) => error.in_room(&name),
                None => error,
            },
        );
    }

    pub(super) fn finish_join(&mut self, room_id: RoomId, ready: ReadyJoin) {
        if !self.is_loading(ready.conn, room_id, ready.generation) {
            return; // left, disconnected or joined again meanwhile
        }
        if let Some(waiting) = self.rooms.get_mut(&room_id).and_then(|r| r.awaiting_remote.as_mut()) {
            return waiting.push(ready);
        }
        let ReadyJoin { conn, since, muted_until, result, .. } = ready;
        let name = self.rooms[&room_id].info.name.clone();
        let missed = match result {
            Ok(missed) => missed,
            Err(e) => {
                tracing::error!(error = %e, "reading history for a join failed");
                self.abort_loading(conn, room_id);
                return self.send_error(conn, FrameError::unavailable().in_room(&name));
            }
        };
        let buffer = self.go_live(conn, room_id);
        // What the read already reflects is not sent twice: positions are committed in
        // order, so a buffered frame at or below the read's top was committed before
        // the read, which holds that state of its message or a later one.
        let seen = missed.top().max(since).unwrap_or_default();
        let backlog: Vec<Arc<Frame>> = buffer.into_iter().filter(|f| f.position().is_none_or(|p| p > seen)).collect();
        let last_sent = backlog.iter().filter_map(|f| f.position()).max().unwrap_or(seen).max(seen);
        self.set_last_sent(conn, room_id, last_sent);
        let (members, online_count) = self.rooms[&room_id].members_page(self.limits.joined_members_max);
        let joined = protocol::joined_frame(
            &name,
            &members,
            online_count,
            &missed.messages,
            &missed.updates,
            missed.limited,
            muted_until.as_ref(),
        );
        let mut frames = vec![Arc::new(Frame::plain(joined))];
        frames.extend(backlog);
        self.deliver(conn, Arc::from(frames));
    }

    /// An event stream enters several rooms at once; what it missed since `since` comes
    /// merged in id order, so that its last event id is a resume point for all of them.
    pub(super) fn subscribe_stream(
        &mut self,
        ctx: &mut Context<Self>,
        conn: ConnId,
        rooms: Vec<RoomInfo>,
        since: Option<MessageId>,
    ) {
        let Some(user_id) = self.connections.get(&conn).map(|c| c.user.id) else { return };
        let generation = self.next_generation;
        self.next_generation += 1;
        for info in &rooms {
            self.begin_loading(conn, info, generation);
        }
        let room_ids: Vec<RoomId> = rooms.iter().map(|r| r.id).collect();
        let page = self.limits.resume_cap;
        let ids = room_ids.clone();
        self.spawn_db(
            ctx,
            move |db| -> DbResult<(Vec<Message>, bool, Option<MessageId>)> {
                let mut c = db.get()?;
                for room_id in &ids {
                    RoomMember::enter(&mut c, *room_id, user_id)?;
                }
                // A `Last-Event-ID` past the latest message means "up to date" (see `join`).
                let since = match since {
                    Some(since) => Some(since.min(Message::sequence_top(&mut c)?)),
                    None => None,
                };
                let (messages, more) = match since {
                    Some(since) => Message::missed_since_in(&mut c, &ids, since, page)?,
                    None => (Vec::new(), false),
                };
                Ok((messages, more, since))
            },
            move |hub, ctx, result| {
                let (since, result) = match result {
                    Ok((messages, more, clamped)) => (clamped, Ok((messages, more))),
                    Err(e) => (since, Err(e)),
                };
                let replay = Replay {
                    room_ids,
                    generation,
                    origin: since,
                    after: since.unwrap_or_default(),
                    replayed: HashSet::new(),
                };
                hub.finish_stream(ctx, conn, replay, result)
            },
        );
    }

    /// Hands an event stream what it missed, a page (the resume cap) at a time: an
    /// event stream has no `limited` flag, so it gets everything, however much. Live
    /// frames wait in the loading buffer until the last page is out; a client too slow
    /// for it is dropped like any slow consumer and resumes from its last event id.
    pub(super) fn finish_stream(
        &mut self,
        ctx: &mut Context<Self>,
        conn: ConnId,
        mut replay: Replay,
        result: DbResult<(Vec<Message>, bool)>,
    ) {
        let generation = replay.generation;
        replay.room_ids.retain(|id| self.is_loading(conn, *id, generation));
        if replay.room_ids.is_empty() {
            return;
        }
        let (history, more) = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::error!(error = %e, "reading history for an event stream failed");
                // The stream ends; its client reconnects with Last-Event-ID.
                return self.drop_connection(conn, Some(CloseReason::StorageUnavailable));
            }
        };
        let mut frames: Vec<Arc<Frame>> = Vec::new();
        for message in &history {
            if let Some(name) = self.rooms.get(&message.room_id).map(|r| r.info.name.clone()) {
                frames.push(Arc::new(replay.frame(message, &name)));
            }
        }
        replay.after = history.last().map_or(replay.after, |m| m.seq);
        if more {
            if !frames.is_empty() {
                self.deliver(conn, Arc::from(frames));
            }
            let (page, ids, after) = (self.limits.resume_cap, replay.room_ids.clone(), replay.after);
            return self.spawn_db(
                ctx,
                move |db| db.get().and_then(|mut c| Message::missed_since_in(&mut c, &ids, after, page)),
                move |hub, ctx, result| hub.finish_stream(ctx, conn, replay, result),
            );
        }
        // Live frames at or below the last read position are in what was read (see
        // `finish_join`).
        let floor = replay.after;
        for room_id in &replay.room_ids {
            let buffered = self.go_live(conn, *room_id);
            frames.extend(buffered.into_iter().filter(|f| f.position().is_some_and(|p| p > floor)));
        }
        frames.sort_by_key(|f| f.position());
        frames.dedup_by_key(|f| f.position());
        for room_id in &replay.room_ids {
            let top = frames.iter().rfind(|f| f.message.as_ref().is_some_and(|m| m.room_id == *room_id));
            let last_sent = top.and_then(|f| f.position()).unwrap_or(floor);
            self.set_last_sent(conn, *room_id, last_sent);
        }
        if !frames.is_empty() {
            self.deliver(conn, Arc::from(frames));
        }
    }
}

/// A join the rules let in: what it missed, its `since` (clamped), and the end of the
/// joiner's mute.
type Admitted = (Missed, Option<MessageId>, Option<NaiveDateTime>);

/// An event stream's replay of what it missed, page after page.
pub(super) struct Replay {
    room_ids: Vec<RoomId>,
    generation: u64,
    /// The stream's resume point (`Last-Event-ID`), if it gave one.
    origin: Option<MessageId>,
    /// The last position read so far.
    after: MessageId,
    /// Messages the client gets as new in this replay: a later page may carry one of
    /// them again, changed since, which is then an update.
    replayed: HashSet<MessageId>,
}

impl Replay {
    /// A message is new to the client the first time it comes, when it was created
    /// after the client's resume point; otherwise it is a new state of one it has.
    fn frame(&mut self, message: &Message, room: &str) -> Frame {
        let new = self.origin.is_some_and(|origin| message.id > origin) && self.replayed.insert(message.id);
        if new {
            Frame::message(message, room)
        } else {
            Frame::update(message, room)
        }
    }
}
