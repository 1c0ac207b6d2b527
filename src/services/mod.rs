//! The rules, each in one place: who may use which room, how accounts are made and
//! checked. Controllers and the WebSocket and event-stream transports call these; none
//! of them re-checks a rule.

pub mod account;
pub mod accounts;
pub mod admin;
pub mod avatars;
pub mod invites;
pub mod moderation;
pub mod rooms;
pub mod search;
