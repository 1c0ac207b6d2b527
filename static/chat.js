// The chat page: one WebSocket, one room. No framework, no build step: ES modules,
// this one the controller that says what each frame and each action does,
// chat-connection.js for the socket and its reconnection, chat-outbox.js for what was
// typed and not yet stored, chat-view.js (with chat-message-list.js and
// chat-composer.js) for what is on screen, chat-format.js for its words and layout.
//
// Promises it keeps: a message shows as pending until the server acknowledges it
// (stored), and goes again with the same client_id after a drop or a refusal that may
// pass (rate limit, storage unavailable), so it is never lost nor doubled; a refusal
// that will not pass (too long, not allowed) puts the text back in the composer with
// the reason; after a dropped connection it reconnects with backoff and rejoins with
// `since` = the last id seen; every message is shown once (de-duplicated by id); text
// goes in with textContent, never as HTML.
import { Connection } from "./chat-connection.js";
import { Outbox } from "./chat-outbox.js";
import { ChatView } from "./chat-view.js";
import { capitalize, newMessagesText, refusedForNowText, refusedText } from "./chat-format.js";

// The "Back online" status goes back to "Online" after this long.
const BACK_ONLINE_MS = 3000;
// At most one "typing" frame this often while the draft changes.
const TYPING_EVERY_MS = 2500;

function main() {
  const root = document.getElementById("chat");
  if (!root) return;
  const room = root.dataset.room;
  const me = { id: Number(root.dataset.meId), nickname: root.dataset.meNickname };
  const pageSize = Number(root.dataset.page) || 50;
  const lastRead = Number(root.dataset.lastRead) || 0;

  // Where the conversation with the server stands; what is on screen is the view's,
  // what waits to be stored is the outbox's.
  const session = {
    joined: false,
    everJoined: false,
    hasOlder: true, // older history than the oldest message shown
    loadingOlder: false,
    readSent: lastRead, // the id last reported read
    lastTypingSent: 0,
    holdTimer: null, // sends again once a refusal's wait is over
  };
  const outbox = new Outbox(); // each item's `view` is its pending <li>
  const view = new ChatView(
    { me, maxChars: Number(root.dataset.maxChars) || 4000, lastRead },
    { onSend: submit, onDraftInput: typed, onScroll: scrolled, onSeen: seen },
  );
  const { list, composer } = view;

  // ---- connection ----
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const connection = new Connection(`${scheme}://${location.host}/ws`, {
    onConnecting(attempt) {
      view.showConnecting(attempt);
    },
    onOpen() {
      const join = { type: "join", room };
      if (list.newestId > 0) join.since = list.newestId;
      connection.send(join);
    },
    onFrame: handle,
    onClose() {
      session.joined = false;
      // What was in flight goes again after the rejoin; until then it waits.
      for (const p of outbox.connectionLost()) list.note(p.view, "waiting");
    },
    onLoggedOut() {
      location.assign("/login");
    },
    onRetry(delay, attempt) {
      view.showOffline(Date.now() + delay);
      if (attempt >= 2) checkSession();
    },
  });

  // A socket that keeps failing may mean the login ended (the upgrade gets 401).
  async function checkSession() {
    try {
      const response = await fetch("/api/me", { headers: { Accept: "application/json" } });
      if (response.status === 401) location.assign("/login");
    } catch (_) {
      // The server is unreachable: keep trying to reconnect.
    }
  }

  function sendFrame(frame) {
    return session.joined && connection.send(frame);
  }

  // ---- frames ----
  function handle(frame) {
    switch (frame.type) {
      case "joined": return onJoined(frame);
      case "message": return onMessage(frame.message);
      case "history": return onHistory(frame);
      case "presence": return onPresence(frame);
      case "typing": return onTyping(frame);
      case "read": return onRead(frame);
      case "error": return onError(frame);
    }
  }

  function onJoined(frame) {
    session.joined = true;
    connection.established();
    view.showOnline(session.everJoined);
    if (session.everJoined) {
      setTimeout(() => { if (session.joined) view.setStatus("online", "Online"); }, BACK_ONLINE_MS);
    }
    const first = !session.everJoined;
    session.everJoined = true;
    view.setMembers(frame.members);
    const stick = first || list.nearBottom();
    const missed = addMessages(frame.messages, first);
    list.refreshSeparators();
    if (missed > 0) view.announce(newMessagesText(missed));
    if (first) {
      session.hasOlder = frame.messages.length >= pageSize || !!frame.limited;
      list.setHasOlder(session.hasOlder);
    } else if (frame.limited) {
      session.hasOlder = true;
    }
    if (first) list.showFirstUnread();
    else if (stick) list.scrollToBottom();
    // Whatever was not acknowledged before the connection dropped goes again, with
    // its client_id, so the server stores it at most once.
    flush();
    markRead();
    fillScreen();
  }

  // The messages of a join; how many of them are new from others, after a rejoin.
  function addMessages(messages, first) {
    let missed = 0;
    for (const message of messages) {
      if (addMessage(message) && !first && message.user.id !== me.id) missed += 1;
    }
    return missed;
  }

  function onMessage(message) {
    if (message.room !== room) return;
    const mine = message.user.id === me.id;
    const stick = list.nearBottom() || mine;
    if (!addMessage(message)) return;
    list.refreshSeparators();
    if (mine) {
      outbox.gotThrough();
      if (composer.errorKind() === "retry" && !outbox.held()) composer.hideError();
    } else {
      view.announce(`${message.user.nickname}: ${message.text}`);
    }
    if (stick) list.scrollToBottom();
    if (!mine && (document.hidden || !stick)) view.countUnseen();
    markRead();
  }

  function onHistory(frame) {
    if (frame.room !== room) return;
    session.loadingOlder = false;
    list.showLoading(false);
    session.hasOlder = frame.has_more;
    list.setHasOlder(session.hasOlder);
    list.keepingPosition(() => {
      for (const message of frame.messages.slice().reverse()) addMessage(message);
      list.refreshSeparators();
    });
    fillScreen();
  }

  function onPresence(frame) {
    if (frame.room !== room) return;
    view.memberOnline(frame.user, frame.online);
  }

  function onTyping(frame) {
    if (frame.room !== room || frame.user.id === me.id) return;
    view.someoneTyping(frame.user.nickname);
  }

  function onRead(frame) {
    if (frame.room !== room) return;
    list.readUpTo(frame.message_id);
    session.readSent = Math.max(session.readSent, frame.message_id);
  }

  function onError(frame) {
    if (frame.client_id && outbox.get(frame.client_id)) {
      if (frame.code === "unavailable" || frame.code === "rate_limited") refusedForNow(frame.client_id, frame.message);
      else refused(frame.client_id, frame.message);
      return;
    }
    if (frame.code === "not_found" || frame.code === "forbidden") {
      composer.showError(capitalize(frame.message), "fatal");
    }
  }

  // A stored message into the list, once; false when it was there already. Our own
  // replaces its pending copy. The caller redraws the separators.
  function addMessage(message) {
    if (list.has(message.id)) return false;
    const ack = message.user.id === me.id && outbox.acknowledged(message.client_id);
    if (ack) list.removePending(ack.view);
    list.add(message);
    return true;
  }

  // ---- sending ----
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function submit() {
    const text = composer.textToSend();
    if (text === null) return;
    const p = outbox.add(newClientId(), text, list.addPending(text));
    if (!session.joined) list.note(p.view, "waiting");
    flush();
    composer.clear();
    list.scrollToBottom();
  }

  // Sends what is queued, in order, unless a refusal asked to wait.
  function flush() {
    if (!session.joined) return;
    for (const p of outbox.due()) {
      if (!sendFrame({ type: "send", room, text: p.text, client_id: p.clientId })) return;
      outbox.sent(p);
      list.note(p.view, "sending");
    }
  }

  // Not stored, but it may pass later: it stays in the list and goes again by itself.
  function refusedForNow(clientId, why) {
    const { item: p, delay } = outbox.refusedForNow(clientId);
    list.note(p.view, "held");
    composer.showError(refusedForNowText(why, delay), "retry");
    clearTimeout(session.holdTimer);
    session.holdTimer = setTimeout(flush, outbox.holdUntil - Date.now());
  }

  // Refused for good: the text goes back into the composer, with the reason, to fix;
  // into an empty composer at once, else when its author asks (the composer's own
  // text is not overwritten).
  function refused(clientId, why) {
    const p = outbox.refusedForGood(clientId);
    if (composer.isEmpty()) {
      withdraw(p);
      composer.putBack(p.text);
    } else {
      list.markFailed(p.view, () => {
        withdraw(p);
        composer.editAgain(p.text);
      });
    }
    composer.showError(refusedText(why), "fatal");
    composer.focus();
  }

  // A refused message leaves the list, its text on its way back to the composer.
  function withdraw(p) {
    list.removePending(p.view);
    list.refreshSeparators();
  }

  function typed() {
    const now = Date.now();
    if (!composer.isEmpty() && now - session.lastTypingSent > TYPING_EVERY_MS) {
      session.lastTypingSent = now;
      sendFrame({ type: "typing", room });
    }
  }

  // ---- history and read markers ----
  function loadOlder() {
    if (!session.hasOlder || session.loadingOlder || !session.joined || list.oldestId === null) return;
    session.loadingOlder = true;
    list.showLoading(true);
    if (!sendFrame({ type: "history", room, before: list.oldestId, limit: pageSize })) {
      session.loadingOlder = false;
      list.showLoading(false);
    }
  }

  // Older messages until the list fills the screen (or history ends).
  function fillScreen() {
    if (list.wantsMore() && session.hasOlder) loadOlder();
  }

  function markRead() {
    if (document.hidden || !session.joined || list.newestId <= session.readSent || !list.nearBottom()) return;
    session.readSent = list.newestId;
    sendFrame({ type: "read", room, message_id: list.newestId });
  }

  function scrolled() {
    if (list.nearTop()) loadOlder();
    seen();
  }

  function seen() {
    view.seen();
    markRead();
  }

  // ---- page life ----
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("online", () => connection.retryNow());
  // Leaving the page ends the connection at once, so the others see us go even when the
  // browser keeps the page for its Back button; coming back that way reconnects.
  window.addEventListener("pagehide", () => {
    connection.leave();
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    connection.resume();
  });

  connection.connect();
  composer.focus();
}

main();
