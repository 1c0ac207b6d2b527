-- The message lifecycle: replies, edits, deletes, reactions. `seq` is the position of a
-- message's latest state in the one commit order that new messages and changes share
-- (a message never changed has seq = id). Message ids are given out from
-- message_sequence from now on, so that ids and seqs never collide.
ALTER TABLE messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET seq = id;
ALTER TABLE messages ADD COLUMN reply_to BIGINT NULL;
ALTER TABLE messages ADD COLUMN edited_at TIMESTAMP NULL;
ALTER TABLE messages ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT 0;
-- Resume in one room (`join` with `since`) and across rooms (event streams, fills).
CREATE INDEX messages_by_room_seq ON messages (room_id, seq);
CREATE INDEX messages_by_seq ON messages (seq);

-- Earlier versions of edited messages, oldest first; erased when the message is deleted.
CREATE TABLE message_edits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BIGINT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    body       TEXT      NOT NULL,
    edited_at  TIMESTAMP NOT NULL
);
CREATE INDEX message_edits_by_message ON message_edits (message_id, id);

-- One row per (message, user, emoji); the row id keeps the order reactions came in.
CREATE TABLE reactions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BIGINT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX reactions_once ON reactions (message_id, user_id, emoji);
