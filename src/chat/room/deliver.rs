//! Leaving, presence, and fan-out: handing frames to connections, and dropping the
//! ones that do not keep up.

use super::*;

impl RoomHub {
    // ---- leaving ----

    /// Removes a connection from a room (with `begin_loading`, the only place that
    /// changes the registry), announcing its user offline when it was their last
    /// connection there.
    pub(super) fn unsubscribe(&mut self, conn: ConnId, room_id: RoomId) {
        if let Some(c) = self.connections.get_mut(&conn) {
            c.last_typing.remove(&room_id);
        }
        let Some(removed) = self.registry.remove(conn, room_id) else { return };
        let Some(room) = self.rooms.get_mut(&room_id) else { return };
        let subscriber = removed.subscription;
        let mut offline = None;
        if subscriber.online {
            if let Some(entry) = room.online.get_mut(&subscriber.user_id) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    offline = room.online.remove(&subscriber.user_id).map(|(user, _)| user);
                }
            }
        }
        if let Some(user) = offline {
            self.presence_changed(room_id, user, false, false);
        }
        if removed.room_emptied {
            self.rooms.remove(&room_id);
        }
    }

    /// A user's first or last connection here in a room. On one node that is the whole
    /// story; in a cluster the other nodes' claims decide (asynchronously, via Redis).
    pub(super) fn presence_changed(&mut self, room_id: RoomId, user: PublicUser, online: bool, known_elsewhere: bool) {
        if !self.broker.is_clustered() {
            self.announce(room_id, &user, online);
        } else if !known_elsewhere {
            if let Some(addr) = &self.me {
                addr.do_send(PresenceChanged { room_id, user, online });
            }
        } else if let Some(addr) = &self.me {
            // Already shown online through another node: only the claim is renewed.
            addr.do_send(PresenceChanged { room_id, user, online: true });
        }
    }

    pub(super) fn drop_connection(&mut self, conn: ConnId, reason: Option<CloseReason>) {
        let Some(connection) = self.connections.remove(&conn) else { return };
        if reason == Some(CloseReason::TooSlow) {
            metrics::counter!("ws_slow_consumers_dropped_total").increment(1);
            tracing::info!(conn, user_id = %connection.user.id, "dropped a connection that stopped reading");
        }
        if let Some(reason) = reason {
            connection.outbox.close(reason);
        }
        if let Some(conns) = self.by_user.get_mut(&connection.user.id) {
            conns.remove(&conn);
            if conns.is_empty() {
                self.by_user.remove(&connection.user.id);
            }
        }
        for room_id in self.registry.rooms_of(conn) {
            self.unsubscribe(conn, room_id);
        }
        metrics::gauge!("chat_connections").set(self.connections.len() as f64);
    }

    // ---- fan-out ----

    /// Hands a batch to one connection (or to its join buffer while it loads).
    pub(super) fn deliver(&mut self, conn: ConnId, batch: Batch) {
        let overflow = self.connections.get(&conn).is_some_and(|c| c.outbox.push(&batch).is_err());
        if overflow {
            self.drop_connection(conn, Some(CloseReason::TooSlow));
        }
    }

    /// To every live connection in the room.
    pub(super) fn broadcast(&mut self, room_id: RoomId, frame: Frame) {
        let batch: Batch = Arc::from([Arc::new(frame)]);
        let targets: Vec<ConnId> = self
            .registry
            .subscribers(room_id)
            .filter(|(_, s)| matches!(s.state, SubState::Live))
            .map(|(conn, _)| conn)
            .collect();
        for conn in targets {
            self.deliver(conn, batch.clone());
        }
    }

    /// Presence and typing: to every live connection in the room but the user's own.
    pub(super) fn broadcast_except_user(&mut self, room_id: RoomId, user_id: UserId, frame: Frame) {
        let batch: Batch = Arc::from([Arc::new(frame)]);
        let targets: Vec<ConnId> = self
            .registry
            .subscribers(room_id)
            .filter(|(_, s)| s.user_id != user_id && matches!(s.state, SubState::Live))
            .map(|(conn, _)| conn)
            .collect();
        let mut slow = Vec::new();
        for conn in targets {
            if let Some(c) = self.connections.get(&conn) {
                if c.outbox.push(&batch).is_err() {
                    slow.push(conn);
                }
            }
        }
        for conn in slow {
            self.drop_connection(conn, Some(CloseReason::TooSlow));
        }
    }

    /// New messages of one room, in id order, to every connection in it.
    pub(super) fn fan_out(&mut self, room_id: RoomId, frames: Vec<Arc<Frame>>) {
        let first_id = frames.first().and_then(|f| f.position()).unwrap_or_default();
        let top_id = frames.last().and_then(|f| f.position()).unwrap_or_default();
        let batch: Batch = Arc::from(frames);
        // A join's buffer holds frames for the time one history read takes.
        let max_buffer = self.limits.outbox_capacity.saturating_mul(64);
        let mut slow = Vec::new();
        for (conn, subscriber) in self.registry.subscribers_mut(room_id) {
            match &mut subscriber.state {
                SubState::Loading { buffer, .. } => {
                    buffer.extend(batch.iter().cloned());
                    if buffer.len() > max_buffer {
                        slow.push(conn);
                    }
                }
                SubState::Live => {
                    let Some(connection) = self.connections.get(&conn) else { continue };
                    let pushed = if subscriber.last_sent < first_id {
                        connection.outbox.push(&batch)
                    } else {
                        // Some of these were already sent (a join overlapped): skip them.
                        let unseen: Vec<Arc<Frame>> = batch
                            .iter()
                            .filter(|f| f.position().is_none_or(|id| id > subscriber.last_sent))
                            .cloned()
                            .collect();
                        if unseen.is_empty() {
                            continue;
                        }
                        connection.outbox.push(&Arc::from(unseen))
                    };
                    match pushed {
                        Ok(()) => subscriber.last_sent = subscriber.last_sent.max(top_id),
                        Err(_) => slow.push(conn),
                    }
                }
            }
        }
        for conn in slow {
            self.drop_connection(conn, Some(CloseReason::TooSlow));
        }
    }
}
