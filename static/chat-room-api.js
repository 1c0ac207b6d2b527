// The JSON API of one room's moderation (docs/protocol.md, "JSON API"), for the room
// menu: each call answers {ok, status, data, error}, error being the server's message
// (or why there was no answer), never thrown. Same session cookie as the page.

import { errorSentence } from "./chat-room-format.js";

export class RoomApi {
  constructor(room) {
    this.base = `/api/rooms/${encodeURIComponent(room)}`;
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      return { ok: false, status: 0, data: null, error: "The server did not answer. Check the connection and try again." };
    }
    let data = null;
    try {
      if (response.status !== 204) data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.ok) return { ok: true, status: response.status, data, error: null };
    if (response.status === 401) location.assign("/login");
    const message = data && data.error && data.error.message;
    return { ok: false, status: response.status, data, error: errorSentence(message || `the server answered ${response.status}`) };
  }

  room() { return this.request("GET", this.base); }
  setTopic(topic) { return this.request("PATCH", this.base, { topic }); }
  deleteRoom() { return this.request("DELETE", this.base); }

  members() { return this.request("GET", `${this.base}/members`); }
  setRole(userId, role) { return this.request("PUT", `${this.base}/members/${userId}/role`, { role }); }

  mute(userId, minutes) { return this.request("POST", `${this.base}/mutes`, { user_id: userId, minutes }); }
  unmute(userId) { return this.request("DELETE", `${this.base}/mutes/${userId}`); }

  ban(userId, reason, minutes) {
    const body = { user_id: userId };
    if (reason) body.reason = reason;
    if (minutes) body.minutes = minutes;
    return this.request("POST", `${this.base}/bans`, body);
  }
  unban(userId) { return this.request("DELETE", `${this.base}/bans/${userId}`); }
  bans() { return this.request("GET", `${this.base}/bans`); }

  log(before, limit) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set("before", String(before));
    return this.request("GET", `${this.base}/moderation?${query}`);
  }

  invites() { return this.request("GET", `${this.base}/invites`); }
  createInvite(maxUses, hours) { return this.request("POST", `${this.base}/invites`, { max_uses: maxUses, hours }); }
  revokeInvite(code) { return this.request("DELETE", `/api/invites/${encodeURIComponent(code)}`); }
}
