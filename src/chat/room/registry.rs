//! Which connection is in which room: the one owner of that relation, kept both ways
//! (a connection's rooms by name, for its requests; a room's subscribers, for fan-out)
//! so that neither side can forget the other.

use std::collections::HashMap;
use std::sync::Arc;

use super::ConnId;
use crate::ids::RoomId;

/// The connection↔room relation, each subscription carrying an `S` (the room actor's
/// per-subscription state).
pub(super) struct Registry<S> {
    /// Rooms each connection is in, by name.
    rooms_of: HashMap<ConnId, HashMap<Arc<str>, RoomId>>,
    /// Connections in each room, with their subscription.
    subscribers: HashMap<RoomId, HashMap<ConnId, S>>,
}

impl<S> Default for Registry<S> {
    fn default() -> Self {
        Registry { rooms_of: HashMap::new(), subscribers: HashMap::new() }
    }
}

/// What [`Registry::remove`] took away.
pub(super) struct Removed<S> {
    pub subscription: S,
    /// Whether that was the room's last subscriber.
    pub room_emptied: bool,
}

impl<S> Registry<S> {
    /// Puts `conn` in a room, keeping an existing subscription there; returns it.
    pub fn insert(&mut self, conn: ConnId, room_id: RoomId, name: &Arc<str>, new: impl FnOnce() -> S) -> &mut S {
        self.rooms_of.entry(conn).or_default().insert(name.clone(), room_id);
        self.subscribers.entry(room_id).or_default().entry(conn).or_insert_with(new)
    }

    /// Takes `conn` out of a room, on both sides.
    pub fn remove(&mut self, conn: ConnId, room_id: RoomId) -> Option<Removed<S>> {
        if let Some(rooms) = self.rooms_of.get_mut(&conn) {
            rooms.retain(|_, joined| *joined != room_id);
            if rooms.is_empty() {
                self.rooms_of.remove(&conn);
            }
        }
        let subscribers = self.subscribers.get_mut(&room_id)?;
        let subscription = subscribers.remove(&conn)?;
        let room_emptied = subscribers.is_empty();
        if room_emptied {
            self.subscribers.remove(&room_id);
        }
        Some(Removed { subscription, room_emptied })
    }

    /// The rooms `conn` is in (to take it out of each when it goes).
    pub fn rooms_of(&self, conn: ConnId) -> Vec<RoomId> {
        self.rooms_of.get(&conn).map(|rooms| rooms.values().copied().collect()).unwrap_or_default()
    }

    /// The room `conn` joined under this name.
    pub fn room_by_name(&self, conn: ConnId, name: &str) -> Option<RoomId> {
        self.rooms_of.get(&conn)?.get(name).copied()
    }

    pub fn get(&self, conn: ConnId, room_id: RoomId) -> Option<&S> {
        self.subscribers.get(&room_id)?.get(&conn)
    }

    pub fn get_mut(&mut self, conn: ConnId, room_id: RoomId) -> Option<&mut S> {
        self.subscribers.get_mut(&room_id)?.get_mut(&conn)
    }

    /// Every subscription in a room.
    pub fn subscribers(&self, room_id: RoomId) -> impl Iterator<Item = (ConnId, &S)> {
        self.subscribers.get(&room_id).into_iter().flat_map(|s| s.iter().map(|(conn, sub)| (*conn, sub)))
    }

    pub fn subscribers_mut(&mut self, room_id: RoomId) -> impl Iterator<Item = (ConnId, &mut S)> {
        self.subscribers.get_mut(&room_id).into_iter().flat_map(|s| s.iter_mut().map(|(conn, sub)| (*conn, sub)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOBBY: RoomId = RoomId(10);
    const RUST: RoomId = RoomId(11);

    fn name(text: &str) -> Arc<str> {
        Arc::from(text)
    }

    #[test]
    fn a_subscription_is_seen_from_both_sides() {
        let mut registry = Registry::default();
        *registry.insert(1, LOBBY, &name("lobby"), || 0) = 7;
        assert_eq!(registry.room_by_name(1, "lobby"), Some(LOBBY));
        assert_eq!(registry.get(1, LOBBY), Some(&7));
        assert_eq!(registry.subscribers(LOBBY).collect::<Vec<_>>(), vec![(1, &7)]);
        assert_eq!(registry.rooms_of(1), vec![LOBBY]);
        assert!(registry.subscribers.contains_key(&LOBBY));
    }

    #[test]
    fn inserting_again_keeps_the_subscription() {
        let mut registry = Registry::default();
        *registry.insert(1, LOBBY, &name("lobby"), || 0) = 7;
        assert_eq!(*registry.insert(1, LOBBY, &name("lobby"), || 0), 7);
        assert_eq!(registry.subscribers(LOBBY).count(), 1);
    }

    #[test]
    fn removing_takes_both_sides_and_reports_the_last_subscriber() {
        let mut registry = Registry::default();
        registry.insert(1, LOBBY, &name("lobby"), || "a");
        registry.insert(2, LOBBY, &name("lobby"), || "b");
        registry.insert(1, RUST, &name("rust"), || "c");

        let removed = registry.remove(1, LOBBY).expect("was subscribed");
        assert_eq!(removed.subscription, "a");
        assert!(!removed.room_emptied);
        assert_eq!(registry.room_by_name(1, "lobby"), None);
        assert_eq!(registry.rooms_of(1), vec![RUST]);
        assert_eq!(registry.subscribers(LOBBY).map(|(c, _)| c).collect::<Vec<_>>(), vec![2]);

        assert!(registry.remove(2, LOBBY).expect("was subscribed").room_emptied);
        assert!(!registry.subscribers.contains_key(&LOBBY), "an empty room is forgotten");
        assert!(registry.remove(2, LOBBY).is_none(), "a second removal finds nothing");
    }

    #[test]
    fn a_connection_leaving_every_room_is_forgotten() {
        let mut registry = Registry::default();
        registry.insert(1, LOBBY, &name("lobby"), || ());
        registry.insert(1, RUST, &name("rust"), || ());
        let mut rooms = registry.rooms_of(1);
        rooms.sort();
        assert_eq!(rooms, vec![LOBBY, RUST]);
        for room in rooms {
            assert!(registry.remove(1, room).is_some_and(|r| r.room_emptied));
        }
        assert!(registry.rooms_of.is_empty() && registry.subscribers.is_empty());
    }

    #[test]
    fn the_same_connection_under_two_names_of_one_room_leaves_once() {
        // A room renamed between two joins is one room: leaving it clears both names.
        let mut registry = Registry::default();
        registry.insert(1, LOBBY, &name("old"), || ());
        registry.insert(1, LOBBY, &name("new"), || ());
        assert!(registry.remove(1, LOBBY).is_some());
        assert_eq!(registry.room_by_name(1, "old"), None);
        assert_eq!(registry.room_by_name(1, "new"), None);
    }

    #[test]
    fn mutable_access_changes_the_subscription_seen_by_fan_out() {
        let mut registry = Registry::default();
        registry.insert(1, LOBBY, &name("lobby"), || 0);
        registry.insert(2, LOBBY, &name("lobby"), || 0);
        for (_, sub) in registry.subscribers_mut(LOBBY) {
            *sub += 5;
        }
        *registry.get_mut(1, LOBBY).unwrap() += 1;
        let mut seen: Vec<_> = registry.subscribers(LOBBY).map(|(c, s)| (c, *s)).collect();
        seen.sort();
        assert_eq!(seen, vec![(1, 6), (2, 5)]);
        assert!(registry.get_mut(3, LOBBY).is_none());
    }
}
