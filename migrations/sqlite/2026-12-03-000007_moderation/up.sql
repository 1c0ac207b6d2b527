-- Moderation: mutes and bans with an optional end, invites, the moderation log,
-- server administrators and disabled accounts. Sessions name their user, so that all
-- of one user's sessions can be ended at once (a disabled account).
ALTER TABLE users ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP NULL;

ALTER TABLE sessions ADD COLUMN user_id BIGINT NULL;
UPDATE sessions SET user_id = CAST(json_extract(state, '$.uid') AS INTEGER)
    WHERE json_valid(state) AND json_extract(state, '$.uid') IS NOT NULL;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- One mute and one ban at most per user and room; `until` NULL is for good.
CREATE TABLE room_sanctions (
    room_id    BIGINT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT      NOT NULL CHECK (kind IN ('mute', 'ban')),
    until      TIMESTAMP NULL,
    reason     TEXT      NOT NULL DEFAULT '',
    created_by BIGINT    NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, user_id, kind)
);
CREATE INDEX room_sanctions_by_user ON room_sanctions (user_id);

-- An invite's code is never stored: only its SHA-256, to look it up, and the random
-- nonce the code is derived from with a key kept outside the database (the data
-- directory's session key), so that the owner can be shown the link again.
CREATE TABLE room_invites (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    BIGINT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    code_hash  TEXT      NOT NULL UNIQUE,
    nonce      TEXT      NOT NULL,
    created_by BIGINT    NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    uses_left  INTEGER   NOT NULL
);
CREATE INDEX room_invites_by_room ON room_invites (room_id, id);

CREATE TABLE moderation_actions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id   BIGINT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    action    TEXT      NOT NULL,
    actor_id  BIGINT    NOT NULL,
    target_id BIGINT    NULL,
    reason    TEXT      NULL,
    detail    TEXT      NULL,
    at        TIMESTAMP NOT NULL
);
CREATE INDEX moderation_actions_by_room ON moderation_actions (room_id, id);
