//! Real-time chat: the room actor (the hub), one session actor per WebSocket, the
//! frames they speak, the fan-out queues and the group-commit writer.

pub mod broker;
pub mod fanout;
pub mod frame_guard;
pub mod protocol;
pub mod room;
pub mod session;
pub mod store;
