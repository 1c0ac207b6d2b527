//! Sends on their way to the group-commit writer and back: stored first, then
//! acknowledged and fanned out; late ones answered `unavailable`.

use super::*;

impl RoomHub {
    pub(super) fn submit(&mut self, message: NewMessage, waiter: Waiter) {
        let Some(writer) = &self.writer else { return };
        let room = match &waiter {
            Waiter::Connection { room, .. } | Waiter::Http { room, .. } => room.clone(),
        };
        let deadline = Instant::now() + self.db.timeout();
        let id = self.waiting.insert(waiter, deadline);
        if writer.submit(message, Ticket { id, room }, deadline).is_err() {
            // The writer is gone: nothing will answer this ticket but us.
            if let Some(waiter) = self.waiting.take(id) {
                self.answer_failure(waiter);
            }
        }
    }

    /// Answers `unavailable` to every sender whose message was not stored in time; the
    /// writer will not start on it any more, and a retry with the same `client_id`
    /// stores it once (or finds it, when its transaction was already committing).
    pub(super) fn expire_waiting(&mut self) {
        for waiter in self.waiting.expired(Instant::now()) {
            metrics::counter!("message_store_timeouts_total").increment(1);
            self.answer_failure(waiter);
        }
    }

    pub(super) fn answer_failure(&mut self, waiter: Waiter) {
        match waiter {
            Waiter::Connection { conn, room, client_id } => {
                let error = FrameError::unavailable().in_room(&room).for_client_id(Some(&client_id));
                self.send_error(conn, error);
            }
            Waiter::Http { reply, .. } => {
                let _ = reply.send(Err(ErrorCode::Unavailable));
            }
        }
    }
}
impl Handler<PostMessage> for RoomHub {
    type Result = ResponseFuture<Result<PostedMessage, ErrorCode>>;

    fn handle(&mut self, msg: PostMessage, _: &mut Context<Self>) -> Self::Result {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let room: Arc<str> = self
            .known_rooms
            .get(msg.room.name.as_str())
            .map_or_else(|| Arc::from(msg.room.name.as_str()), |r| r.name.clone());
        let message = NewMessage {
            room_id: msg.room.id,
            user_id: msg.user.id,
            nickname: msg.user.nickname,
            body: msg.text,
            client_id: msg.client_id,
        };
        self.submit(message, Waiter::Http { room, reply });
        Box::pin(async move { answer.await.unwrap_or(Err(ErrorCode::Unavailable)) })
    }
}

impl Handler<StoredBatch<Ticket>> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: StoredBatch<Ticket>, ctx: &mut Context<Self>) {
        let mut committed = Vec::new();
        for (ticket, outcome) in msg.outcomes {
            // A sender answered `unavailable` already has no waiter; its message, if it
            // was stored after all, still goes to the room.
            let waiter = self.waiting.take(ticket.id);
            match (waiter, outcome) {
                (waiter, Ok(Stored::New { message, prev })) => {
                    let room = ticket.room;
                    let frame = Arc::new(Frame::message(&message, &room));
                    let json = frame.message.as_ref().map(|m| m.json.clone()).unwrap_or_default();
                    if let Some(Waiter::Http { reply, .. }) = waiter {
                        let _ = reply.send(Ok(PostedMessage { json: json.clone(), created: true }));
                    }
                    if self.broker.is_clustered() {
                        let message =
                            serde_json::value::RawValue::from_string(json.to_string()).expect("a message object");
                        self.publish(ClusterEvent::Message {
                            node: self.broker.node().to_owned(),
                            id: message_id(&frame),
                            prev,
                            room_id: message_room(&frame),
                            room: room.to_string(),
                            message,
                        });
                    }
                    committed.push(Chained { id: message_id(&frame), prev, room_id: message_room(&frame), frame });
                }
                (Some(Waiter::Connection { conn, room, .. }), Ok(Stored::Existing(first))) => {
                    // A repeat: only its sender hears of it again, with the first copy.
                    let room = self.room_name(first.room_id).unwrap_or(room);
                    self.answer_repeat(conn, first.id, Frame::message(&first, &room));
                }
                (Some(Waiter::Http { room, reply }), Ok(Stored::Existing(first))) => {
                    let room = self.room_name(first.room_id).unwrap_or(room);
                    let json = Frame::message(&first, &room).message.map(|m| m.json).unwrap_or_default();
                    let _ = reply.send(Ok(PostedMessage { json, created: false }));
                }
                (Some(waiter), Err(StoreFailed)) => self.answer_failure(waiter),
                (None, _) => {}
            }
        }
        self.accept_chained(ctx, committed);
    }
}

fn message_id(frame: &Frame) -> MessageId {
    frame.message_id().unwrap_or_default()
}

fn message_room(frame: &Frame) -> RoomId {
    frame.message.as_ref().map(|m| m.room_id).unwrap_or_default()
}
