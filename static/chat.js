// The chat page: one WebSocket, one room. No framework, no build step: ES modules,
// this one the controller that says what each frame and each action does,
// chat-connection.js for the socket and its reconnection, chat-sending.js (over
// chat-outbox.js) for what was typed and not yet stored, chat-actions.js for replies,
// edits, deletes and reactions, chat-view.js (with chat-message-list.js and
// chat-composer.js) for what is on screen, chat-format.js for its words and layout.
//
// Promises it keeps: a message shows as pending until the server acknowledges it
// (stored), and goes again with the same client_id after a drop or a refusal that may
// pass (rate limit, storage unavailable), so it is never lost nor doubled; a refusal
// that will not pass (too long, not allowed) puts the text back in the composer with
// the reason; after a dropped connection it reconnects with backoff and rejoins with
// `since` = the highest id or seq seen; every message is shown once (de-duplicated by
// id), in its latest state (an `update` redraws it in place); text goes in with
// textContent, never as HTML.
import { MessageActions } from "./chat-actions.js";
import { Connection } from "./chat-connection.js";
import { cursorAfter } from "./chat-lifecycle.js";
import { newClientId, Sender } from "./chat-sending.js";
import { ChatView } from "./chat-view.js";
import { capitalize, newMessagesText } from "./chat-format.js";

// The "Back online" status goes back to "Online" after this long.
const BACK_ONLINE_MS = 3000;

function main() {
  const root = document.getElementById("chat");
  if (!root) return;
  const room = root.dataset.room;
  const me = { id: Number(root.dataset.meId), nickname: root.dataset.meNickname };
  const pageSize = Number(root.dataset.page) || 50;
  const lastRead = Number(root.dataset.lastRead) || 0;

  // Where the conversation with the server stands; what is on screen is the view's,
  // what waits to be stored is the sender's.
  const session = {
    joined: false,
    everJoined: false,
    hasOlder: true, // older history than the oldest message shown
    loadingOlder: false,
    readSent: lastRead, // the id last reported read
    cursor: 0, // the highest id or seq seen live: the `since` of the next join
  };
  const view = new ChatView(
    { me, maxChars: Number(root.dataset.maxChars) || 4000, lastRead },
    {
      onSend: () => sender.submit(),
      onDraftInput: () => sender.typed(),
      onScroll: scrolled,
      onSeen: seen,
      onEditLast: () => actions.editLast(),
      list: {
        onMenu: (id, button) => actions.openMenu(id, button),
        onReact: (id, emoji, on) => actions.react(id, emoji, on),
        onQuote: (id) => actions.jumpTo(id),
        original: (id) => actions.original(id),
      },
    },
  );
  const { list, composer } = view;
  const actions = new MessageActions({ room, me, view, send: sendFrame, newClientId, addOlder });
  const sender = new Sender({ room, view, actions, send: sendFrame, joined: () => session.joined });

  // ---- connection ----
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const connection = new Connection(`${scheme}://${location.host}/ws`, {
    onConnecting(attempt) {
      view.showConnecting(attempt);
    },
    onOpen() {
      const join = { type: "join", room };
      if (session.cursor > 0) join.since = session.cursor;
      connection.send(join);
    },
    onFrame: handle,
    onClose() {
      session.joined = false;
      sender.connectionLost();
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
      case "update": return onUpdate(frame);
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
    // Too much was missed: the server sent its latest page, to start over from.
    if (!first && frame.limited) list.clear();
    const missed = addMessages(frame.messages, first);
    for (const message of frame.updates || []) actions.update(message);
    for (const message of [...frame.messages, ...(frame.updates || [])]) see(message);
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
    // its client_id, so the server stores it at most once; so do edits, deletes and
    // reactions not answered.
    sender.flush();
    actions.resend();
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
    see(message);
    if (!addMessage(message)) return;
    list.refreshSeparators();
    if (mine) {
      sender.gotThrough();
    } else {
      view.announce(`${message.user.nickname}: ${message.text}`);
    }
    if (stick) list.scrollToBottom();
    if (!mine && (document.hidden || !stick)) view.countUnseen();
    markRead();
  }

  // A message changed: its new state, in place, if it is shown.
  function onUpdate(frame) {
    if (frame.room !== room) return;
    see(frame.message);
    actions.update(frame.message);
  }

  // A message's state seen live (or in a join): the resume cursor moves past it. Not
  // from history pages, read apart from the live order.
  function see(message) {
    session.cursor = cursorAfter(session.cursor, message);
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
    if (actions.error(frame) || sender.error(frame)) return;
    if (frame.code === "not_found" || frame.code === "forbidden") {
      composer.showError(capitalize(frame.message), "fatal");
    }
  }

  // A stored message into the list, once; false when it was there already (a later
  // state of it is drawn in place). Our own replaces its pending copy. The caller
  // redraws the separators.
  function addMessage(message) {
    if (list.has(message.id)) {
      actions.update(message);
      return false;
    }
    if (message.user.id === me.id) sender.acknowledged(message);
    list.add(message);
    return true;
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

  // A page of older history fetched to reach a replied-to message.
  function addOlder(messages, hasMore) {
    list.keepingPosition(() => {
      for (const message of messages) addMessage(message);
      list.refreshSeparators();
    });
    session.hasOlder = hasMore;
    list.setHasOlder(hasMore);
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
