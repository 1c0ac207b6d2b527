//! What every handler shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::chat::room::RoomHub;
use crate::config::{Config, Limits};
use crate::db::Db;
use crate::errors::AppError;
use crate::ids::UserId;
use crate::throttle::{AddressQuota, LoginThrottle};

pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub region: phonenumber::country::Id,
    pub throttle: LoginThrottle,
    /// Registrations per client address.
    pub registrations: AddressQuota,
    /// Open WebSockets and event streams per user and per address.
    pub sockets: SocketCounts,
    /// `trusted_proxies`, parsed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A bcrypt hash checked when the phone is unknown, so both failures take as long.
    pub dummy_hash: String,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub limits: Arc<Limits>,
    pub hub: actix::Addr<RoomHub>,
    /// Messages posted over HTTP, limited per user.
    pub http_sends: governor::DefaultKeyedRateLimiter<UserId>,
    /// Searches and people lookups, limited per user together ([`AppState::allow_lookup`]).
    pub lookups: governor::DefaultKeyedRateLimiter<UserId>,
    /// `/healthz`'s database check, on a connection of its own.
    pub health: crate::health::HealthProbe,
    /// What invite codes are derived with (kept outside the database).
    pub invite_key: crate::services::invites::InviteKey,
}

impl AppState {
    /// A search or a people lookup by `user`, unless they made too many this second:
    /// both are asked as a person types, and a search may read many index entries.
    pub fn allow_lookup(&self, user: UserId) -> Result<(), AppError> {
        self.lookups.check_key(&user).map_err(|_| AppError::RateLimited { retry_after_secs: 1 })
    }

    /// The client's address. Behind trusted proxies (`trust_forwarded_for`), it is the
    /// right-most `X-Forwarded-For` hop that is not a trusted proxy: every hop to the
    /// left of it was written by the client and proves nothing.
    pub fn client_addr(&self, req: &HttpRequest) -> String {
        let Some(peer) = req.peer_addr().map(|a| a.ip()) else { return "unknown".into() };
        if !self.config.trust_forwarded_for {
            return peer.to_string();
        }
        let hops: Vec<&str> = req
            .headers()
            .get_all(header::X_FORWARDED_FOR)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        client_behind_proxies(peer, &hops, &self.trusted_proxies).to_string()
    }

    /// The client's address when per-address quotas apply to it: loopback is this host
    /// (a local reverse proxy that is not trusted to name its clients, a load test),
    /// where one quota for everybody would lock every newcomer out.
    pub fn quota_addr(&self, req: &HttpRequest) -> Option<String> {
        let addr = self.client_addr(req);
        addr.parse::<IpAddr>().is_ok_and(|ip| !ip.is_loopback()).then_some(addr)
    }

    /// The host this request was made to: its own `Host`, or with `trust_forwarded_for`
    /// what the proxy says (`X-Forwarded-Host`, `Forwarded`), which anybody else could write.
    pub fn own_host(&self, req: &HttpRequest) -> Option<String> {
        if self.config.trust_forwarded_for {
            return Some(req.connection_info().host().to_owned());
        }
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
    }

    /// `scheme://host` of this server as the client reached it, for links it is given.
    pub fn own_origin(&self, req: &HttpRequest) -> String {
        let https =
            self.config.cookie_secure || (self.config.trust_forwarded_for && req.connection_info().scheme() == "https");
        let host = self.own_host(req).unwrap_or_else(|| self.config.bind.clone());
        format!("{}://{host}", if https { "https" } else { "http" })
    }

    /// Takes one of the user's and the address's open-socket slots, or refuses with 429
    /// before the upgrade; the slot is given back when the returned guard drops.
    pub fn open_socket(&self, req: &HttpRequest, user_id: UserId) -> Result<SocketSlot, AppError> {
        self.sockets.take(user_id, self.quota_addr(req), self.limits.sockets_per_user, self.limits.sockets_per_addr)
    }
}

/// The client's address given the connected peer and the `X-Forwarded-For` hops, left to
/// right. With no proxy list, the connected peer alone is the trusted proxy.
pub fn client_behind_proxies(peer: IpAddr, hops: &[&str], trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr, is_peer: bool| {
        if trusted.is_empty() {
            is_peer
        } else {
            trusted.iter().any(|net| net.contains(&ip))
        }
    };
    let mut client = peer;
    let mut is_peer = true;
    for hop in hops.iter().rev() {
        if !is_trusted(client, is_peer) {
            break;
        }
        // A hop that is not an address ends the walk: what is left of it is the client's.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        is_peer = false;
    }
    client
}

/// Open sockets per user and per address.
#[derive(Default)]
pub struct SocketCounts {
    counts: Arc<Mutex<SocketTally>>,
}

#[derive(Default)]
struct SocketTally {
    by_user: HashMap<UserId, usize>,
    by_addr: HashMap<String, usize>,
}

impl SocketCounts {
    /// `addr` is `None` for a client counted per user only (see `AppState::quota_addr`).
    fn take(
        &self,
        user_id: UserId,
        addr: Option<String>,
        per_user: usize,
        per_addr: usize,
    ) -> Result<SocketSlot, AppError> {
        let mut tally = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let user_open = tally.by_user.get(&user_id).copied().unwrap_or(0);
        let addr_open = addr.as_ref().and_then(|a| tally.by_addr.get(a)).copied().unwrap_or(0);
        if user_open >= per_user || addr_open >= per_addr {
            return Err(AppError::RateLimited { retry_after_secs: 5 });
        }
        *tally.by_user.entry(user_id).or_default() += 1;
        if let Some(addr) = &addr {
            *tally.by_addr.entry(addr.clone()).or_default() += 1;
        }
        Ok(SocketSlot { counts: self.counts.clone(), user_id, addr })
    }
}

/// One open socket, counted until dropped.
pub struct SocketSlot {
    counts: Arc<Mutex<SocketTally>>,
    user_id: UserId,
    addr: Option<String>,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut tally = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
            if let Some(open) = map.get_mut(key) {
                *open -= 1;
                if *open == 0 {
                    map.remove(key);
                }
            }
        }
        release(&mut tally.by_user, &self.user_id);
        if let Some(addr) = &self.addr {
            release(&mut tally.by_addr, addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn the_client_is_the_rightmost_hop_not_a_trusted_proxy() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        // One proxy (the peer): the hop it wrote is the client, whatever the client wrote before.
        assert_eq!(client_behind_proxies(peer, &["6.6.6.6", "1.2.3.4"], &[]).to_string(), "1.2.3.4");
        // Two layers of trusted proxies.
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(client_behind_proxies(peer, &["6.6.6.6", "1.2.3.4", "10.0.0.7"], &trusted).to_string(), "1.2.3.4");
        // A peer that is not a trusted proxy is the client, whatever it claims.
        let outsider: IpAddr = "5.5.5.5".parse().unwrap();
        assert_eq!(client_behind_proxies(outsider, &["1.2.3.4"], &trusted).to_string(), "5.5.5.5");
        // Garbage stops the walk at the last address that was vouched for.
        assert_eq!(client_behind_proxies(peer, &["1.2.3.4", "nonsense"], &[]).to_string(), "10.0.0.1");
        assert_eq!(client_behind_proxies(peer, &[], &[]).to_string(), "10.0.0.1");
    }
}
