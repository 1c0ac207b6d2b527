-- The message lifecycle: replies, edits, deletes, reactions. `seq` is the position of a
-- message's latest state in the one commit order that new messages and changes share
-- (a message never changed has seq = id). Message ids are given out from
-- message_sequence from now on, so that ids and seqs never collide.
ALTER TABLE messages
    ADD COLUMN seq BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN reply_to BIGINT NULL,
    ADD COLUMN edited_at DATETIME(3) NULL,
    ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE messages SET seq = id;
-- Resume in one room (`join` with `since`) and across rooms (event streams, fills).
CREATE INDEX messages_by_room_seq ON messages (room_id, seq);
CREATE INDEX messages_by_seq ON messages (seq);

-- Earlier versions of edited messages, oldest first; erased when the message is deleted.
CREATE TABLE message_edits (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    message_id BIGINT      NOT NULL,
    body       TEXT        CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    edited_at  DATETIME(3) NOT NULL,
    KEY message_edits_by_message (message_id, id),
    CONSTRAINT message_edits_message FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per (message, user, emoji); the row id keeps the order reactions came in.
-- Emoji compare as bytes: 👍 and 👍🏽 are different reactions.
CREATE TABLE reactions (
    id         BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    message_id BIGINT        NOT NULL,
    user_id    BIGINT        NOT NULL,
    emoji      VARBINARY(32) NOT NULL,
    created_at DATETIME(3)   NOT NULL,
    UNIQUE KEY reactions_once (message_id, user_id, emoji),
    CONSTRAINT reactions_message FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE,
    CONSTRAINT reactions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
