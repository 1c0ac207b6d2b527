//! Presence, typing, read markers and logouts across nodes, and the events that come
//! from other nodes. With the in-process broker (one node) presence is just this
//! node's count of connections; with Redis it is the union of every live node's claims.

use std::sync::Arc;

use actix::prelude::*;

use super::sequence::Chained;
use super::RoomHub;
use crate::chat::broker::ClusterEvent;
use crate::chat::protocol::{self, Frame, MessageEvent};
use crate::ids::{RoomId, UserId};
use crate::models::user::PublicUser;

impl RoomHub {
    /// A user's first connection in a room on this node went live.
    pub(crate) fn came_online_here(&mut self, ctx: &mut Context<Self>, room_id: RoomId, user: PublicUser) {
        if !self.broker.is_clustered() {
            return self.announce(room_id, &user, true);
        }
        let broker = self.broker.clone();
        let room = self.room_name(room_id);
        async move { broker.presence_join(room_id, user.clone()).await.map(|first| (first, user)) }
            .into_actor(self)
            .map(move |result, hub, _| match result {
                Ok((true, user)) => {
                    hub.announce(room_id, &user, true);
                    if let Some(room) = room {
                        let node = hub.broker.node().to_owned();
                        hub.broker.publish(&ClusterEvent::Presence {
                            node,
                            room_id,
                            room: room.to_string(),
                            user,
                            online: true,
                        });
                    }
                }
                Ok((false, _)) => {} // already online through another node
                Err(e) => tracing::warn!(error = %e, "presence claim failed; retried on the next refresh"),
            })
            .spawn(ctx);
    }

    /// A user's last connection in a room on this node went away.
    pub(crate) fn went_offline_here(&mut self, ctx: &mut Context<Self>, room_id: RoomId, user: PublicUser) {
        if !self.broker.is_clustered() {
            return self.announce(room_id, &user, false);
        }
        let broker = self.broker.clone();
        let room = self.room_name(room_id);
        async move { broker.presence_leave(room_id, user.id).await.map(|gone| (gone, user)) }
            .into_actor(self)
            .map(move |result, hub, _| match result {
                Ok((true, user)) => {
                    hub.announce(room_id, &user, false);
                    if let Some(room) = room {
                        let node = hub.broker.node().to_owned();
                        hub.broker.publish(&ClusterEvent::Presence {
                            node,
                            room_id,
                            room: room.to_string(),
                            user,
                            online: false,
                        });
                    }
                }
                Ok((false, _)) => {}
                // The claim expires by itself; the other nodes notice then.
                Err(e) => tracing::warn!(error = %e, "presence release failed"),
            })
            .spawn(ctx);
    }

    /// Tells this node's connections in the room that someone came or went, unless that
    /// changes nothing for them (the user is still here through another connection).
    pub(crate) fn announce(&mut self, room_id: RoomId, user: &PublicUser, online: bool) {
        let Some(room) = self.rooms.get_mut(&room_id) else { return };
        if room.online.contains_key(&user.id) != online {
            return; // a local connection came or went meanwhile: it says otherwise
        }
        if online {
            room.remote_online.remove(&user.id);
        }
        if room.presence_quiet(self.limits.presence_room_max) {
            return;
        }
        let frame = protocol::presence_frame(&room.info.name, user, online);
        self.broadcast_except_user(room_id, user.id, Frame::plain(frame));
    }

    /// Someone online or gone through another node.
    fn remote_presence(&mut self, room_id: RoomId, user: PublicUser, online: bool) {
        let Some(room) = self.rooms.get_mut(&room_id) else { return };
        if room.online.contains_key(&user.id) {
            return; // online here: our own connections decide
        }
        let changed = if online {
            room.remote_online.insert(user.id, user.clone()).is_none()
        } else {
            room.remote_online.remove(&user.id).is_some()
        };
        if changed && !room.presence_quiet(self.limits.presence_room_max) {
            let frame = protocol::presence_frame(&room.info.name, &user, online);
            self.broadcast_except_user(room_id, user.id, Frame::plain(frame));
        }
    }

    /// Renews this node's presence claims and reconciles every room it serves with the
    /// cluster's view: a node that died leaves claims that expire, and its users go
    /// offline here within the claims' time-to-live.
    pub(crate) fn refresh_presence(&mut self, ctx: &mut Context<Self>) {
        if !self.broker.is_clustered() {
            return;
        }
        let broker = self.broker.clone();
        let claims: Vec<(RoomId, PublicUser)> = self
            .rooms
            .iter()
            .flat_map(|(room_id, room)| room.online.values().map(move |(user, _)| (*room_id, user.clone())))
            .collect();
        let room_ids: Vec<RoomId> = self.rooms.keys().copied().collect();
        async move {
            if let Err(e) = broker.presence_refresh(claims).await {
                tracing::warn!(error = %e, "renewing presence claims failed");
            }
            let mut views = Vec::with_capacity(room_ids.len());
            for room_id in room_ids {
                if let Ok(online) = broker.presence_online(room_id).await {
                    views.push((room_id, online));
                }
            }
            views
        }
        .into_actor(self)
        .map(|views, hub, _| {
            for (room_id, online) in views {
                hub.reconcile_room(room_id, online);
            }
        })
        .spawn(ctx);
    }

    /// Brings a room's remote presence in line with the cluster's list.
    pub(crate) fn reconcile_room(&mut self, room_id: RoomId, online: Vec<PublicUser>) {
        let Some(room) = self.rooms.get(&room_id) else { return };
        let local: Vec<UserId> = room.online.keys().copied().collect();
        let gone: Vec<PublicUser> =
            room.remote_online.values().filter(|u| !online.iter().any(|o| o.id == u.id)).cloned().collect();
        for user in gone {
            self.remote_presence(room_id, user, false);
        }
        for user in online.into_iter().filter(|u| !local.contains(&u.id)) {
            self.remote_presence(room_id, user, true);
        }
    }

    /// A room just became active on this node: learn who is online elsewhere, then
    /// let the joins that waited for it go live (their member lists need it). A Redis
    /// that does not answer holds them up no longer than the connection manager's
    /// response timeout (500 ms).
    pub(crate) fn load_remote_presence(&mut self, ctx: &mut Context<Self>, room_id: RoomId) {
        if !self.broker.is_clustered() {
            return;
        }
        let broker = self.broker.clone();
        async move { broker.presence_online(room_id).await }
            .into_actor(self)
            .map(move |result, hub, _| {
                match result {
                    Ok(online) => hub.reconcile_room(room_id, online),
                    // The next refresh reconciles; the joins do not wait for it.
                    Err(e) => tracing::warn!(error = %e, "reading presence failed"),
                }
                let ready = hub.rooms.get_mut(&room_id).and_then(|r| r.awaiting_remote.take()).unwrap_or_default();
                for join in ready {
                    hub.finish_join(room_id, join);
                }
            })
            .spawn(ctx);
    }

    /// Whether typing notices go out in this room (it is served here and not too big).
    pub(crate) fn typing_heard(&self, room_id: RoomId) -> bool {
        self.rooms.get(&room_id).is_some_and(|r| !r.presence_quiet(self.limits.presence_room_max))
    }

    pub(crate) fn publish(&self, event: ClusterEvent) {
        self.broker.publish(&event);
    }
}

/// Events from the other nodes.
impl StreamHandler<ClusterEvent> for RoomHub {
    fn handle(&mut self, event: ClusterEvent, ctx: &mut Context<Self>) {
        match event {
            ClusterEvent::Message { id, seq, prev, room_id, room, update, message, .. } => {
                let kind = if update { MessageEvent::Update } else { MessageEvent::Message };
                let json = message.get().to_owned().into();
                let frame = Frame::around(kind, id, seq, room_id, &room, json);
                self.accept_chained(ctx, vec![Chained { id: seq, prev, room_id, frame: Arc::new(frame) }]);
            }
            ClusterEvent::Presence { room_id, user, online, .. } => self.remote_presence(room_id, user, online),
            ClusterEvent::Typing { room_id, room, user, .. } => {
                if self.typing_heard(room_id) {
                    self.broadcast_except_user(room_id, user.id, Frame::plain(protocol::typing_frame(&room, &user)));
                }
            }
            ClusterEvent::Read { user_id, room, message_id, .. } => self.tell_devices(user_id, None, &room, message_id),
            ClusterEvent::EndLogin { login_id, .. } => self.end_login(&login_id),
            ClusterEvent::RoomFrame { room_id, text, only_user, .. } => {
                self.frame_to_room(room_id, text.into(), only_user)
            }
            ClusterEvent::Removed { room_id, user_id, text, forget, .. } => {
                self.remove_from_room(room_id, user_id, text.into(), forget)
            }
            ClusterEvent::EndUser { user_id, except_login, .. } => self.end_user(user_id, except_login.as_deref()),
            ClusterEvent::UserChanged { user, .. } => self.user_changed(user),
            ClusterEvent::Resubscribed => {
                // Whatever was published while the subscription was down is read back.
                self.sweep(ctx);
                self.refresh_presence(ctx);
            }
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        tracing::warn!("the cluster event stream ended");
    }
}
