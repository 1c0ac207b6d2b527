//! Sends on their way to the group-commit writer and back: stored first, then
//! acknowledged and fanned out; late ones answered `unavailable`.

use super::*;

impl RoomHub {
    pub(super) fn submit(&mut self, write: Write, waiter: Waiter) {
        let Some(writer) = &self.writer else { return };
        let room = match &waiter {
            Waiter::Connection { room, .. } | Waiter::Http { room, .. } => room.clone(),
        };
        let deadline = Instant::now() + self.db.timeout();
        let id = self.waiting.insert(waiter, deadline);
        if writer.submit(write, Ticket { id, room }, deadline).is_err() {
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
        self.answer_error(waiter, FrameError::unavailable());
    }

    fn answer_error(&mut self, waiter: Waiter, error: FrameError) {
        match waiter {
            Waiter::Connection { conn, room, client_id } => {
                self.send_error(conn, error.in_room(&room).for_client_id(client_id.as_deref()));
            }
            Waiter::Http { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }

    /// Something stored now: answered, published to the other nodes, and handed to the
    /// chain, which fans it out in commit order.
    fn committed(
        &mut self,
        waiter: Option<Waiter>,
        frame: Frame,
        ticket: &Ticket,
        prev: MessageId,
        committed: &mut Vec<Chained>,
    ) {
        let frame = Arc::new(frame);
        let Some(message) = frame.message.as_ref() else { return };
        if let Some(Waiter::Http { reply, .. }) = waiter {
            let _ = reply.send(Ok(PostedMessage { json: message.json.clone(), created: true }));
        }
        if self.broker.is_clustered() {
            let json = serde_json::value::RawValue::from_string(message.json.to_string()).expect("a message object");
            self.publish(ClusterEvent::Message {
                node: self.broker.node().to_owned(),
                id: message.id,
                seq: message.seq,
                prev,
                room_id: message.room_id,
                room: ticket.room.to_string(),
                update: message.kind == MessageEvent::Update,
                message: json,
            });
        }
        let (seq, room_id) = (message.seq, message.room_id);
        committed.push(Chained { id: seq, prev, room_id, frame });
    }

    /// A write that stored nothing new: a repeated send, or a change already in place.
    fn answered_unchanged(&mut self, waiter: Option<Waiter>, message: &Message, room: Arc<str>, repeat: bool) {
        let room = self.room_name(message.room_id).unwrap_or(room);
        match waiter {
            // A repeat: only its sender hears of it again, with the first copy, once the
            // chain has delivered that. A change already in place sends nothing.
            Some(Waiter::Connection { conn, .. }) if repeat => {
                self.answer_repeat(conn, message.seq, Frame::message(message, &room))
            }
            Some(Waiter::Http { reply, .. }) => {
                // The message object alone: no frame text is needed for an HTTP answer.
                let json = serde_json::to_string(&message.view(&room)).expect("messages serialize").into();
                let _ = reply.send(Ok(PostedMessage { json, created: false }));
            }
            _ => {}
        }
    }
}

fn refusal(why: Refused) -> FrameError {
    match why {
        Refused::NotFound => FrameError::new(ErrorCode::NotFound, "there is no such message in this room"),
        Refused::Forbidden => FrameError::new(ErrorCode::Forbidden, "only its author may change this message"),
        Refused::TooManyReactions => FrameError::bad_request("this message has as many different reactions as it may"),
        Refused::Banned => FrameError::new(ErrorCode::Forbidden, crate::permissions::BANNED),
        Refused::Muted(until) => FrameError::new(ErrorCode::Forbidden, crate::permissions::muted_message(&until)),
    }
}

impl RoomHub {
    fn http_room(&self, room: &Room) -> Arc<str> {
        self.known_rooms.get(room.name.as_str()).map_or_else(|| Arc::from(room.name.as_str()), |r| r.name.clone())
    }
}

impl Handler<PostMessage> for RoomHub {
    type Result = ResponseFuture<Result<PostedMessage, FrameError>>;

    fn handle(&mut self, msg: PostMessage, _: &mut Context<Self>) -> Self::Result {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let room = self.http_room(&msg.room);
        let message = NewMessage {
            room_id: msg.room.id,
            user_id: msg.user.id,
            author: msg.user.clone(),
            body: msg.text,
            client_id: msg.client_id,
            reply_to: msg.reply_to,
        };
        self.submit(Write::Send(message), Waiter::Http { room, reply });
        Box::pin(async move { answer.await.unwrap_or_else(|_| Err(FrameError::unavailable())) })
    }
}

impl Handler<ChangeMessage> for RoomHub {
    type Result = ResponseFuture<Result<PostedMessage, FrameError>>;

    fn handle(&mut self, msg: ChangeMessage, _: &mut Context<Self>) -> Self::Result {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let room = self.http_room(&msg.room);
        let change = Change { room_id: msg.room.id, message_id: msg.message_id, user_id: msg.user.id, kind: msg.kind };
        self.submit(Write::Change(change), Waiter::Http { room, reply });
        Box::pin(async move { answer.await.unwrap_or_else(|_| Err(FrameError::unavailable())) })
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
            match outcome {
                Ok(Stored::New { message, prev }) => {
                    let frame = Frame::message(&message, &ticket.room);
                    self.committed(waiter, frame, &ticket, prev, &mut committed);
                }
                Ok(Stored::Changed { message, prev }) => {
                    let frame = Frame::update(&message, &ticket.room);
                    self.committed(waiter, frame, &ticket, prev, &mut committed);
                }
                Ok(Stored::Existing(first)) => self.answered_unchanged(waiter, &first, ticket.room, true),
                Ok(Stored::Unchanged(current)) => self.answered_unchanged(waiter, &current, ticket.room, false),
                Ok(Stored::Refused(why)) => {
                    if let Some(waiter) = waiter {
                        self.answer_error(waiter, refusal(why));
                    }
                }
                Err(StoreFailed) => {
                    if let Some(waiter) = waiter {
                        self.answer_failure(waiter);
                    }
                }
            }
        }
        self.accept_chained(ctx, committed);
    }
}
