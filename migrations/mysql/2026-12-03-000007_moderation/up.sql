-- Moderation: mutes and bans with an optional end, invites, the moderation log,
-- server administrators and disabled accounts. Sessions name their user, so that all
-- of one user's sessions can be ended at once (a disabled account).
ALTER TABLE users
    ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN disabled_at DATETIME(3) NULL;

ALTER TABLE sessions ADD COLUMN user_id BIGINT NULL, ADD KEY sessions_by_user (user_id);
UPDATE sessions SET user_id = CAST(JSON_UNQUOTE(JSON_EXTRACT(state, '$.uid')) AS SIGNED)
    WHERE JSON_VALID(state) AND JSON_EXTRACT(state, '$.uid') IS NOT NULL;

-- One mute and one ban at most per user and room; `until` NULL is for good.
CREATE TABLE room_sanctions (
    room_id    BIGINT       NOT NULL,
    user_id    BIGINT       NOT NULL,
    kind       VARCHAR(8)   NOT NULL,
    until      DATETIME(3)  NULL,
    reason     VARCHAR(800) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    created_by BIGINT       NOT NULL,
    created_at DATETIME(3)  NOT NULL,
    PRIMARY KEY (room_id, user_id, kind),
    KEY room_sanctions_by_user (user_id),
    CONSTRAINT room_sanctions_kind CHECK (kind IN ('mute', 'ban')),
    CONSTRAINT room_sanctions_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    CONSTRAINT room_sanctions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- An invite's code is never stored: only its SHA-256, to look it up, and the random
-- nonce the code is derived from with a key kept outside the database (the data
-- directory's session key), so that the owner can be shown the link again.
CREATE TABLE room_invites (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    room_id    BIGINT      NOT NULL,
    code_hash  CHAR(64)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    nonce      CHAR(32)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_by BIGINT      NOT NULL,
    created_at DATETIME(3) NOT NULL,
    expires_at DATETIME(3) NOT NULL,
    uses_left  INTEGER     NOT NULL,
    UNIQUE KEY room_invites_code (code_hash),
    KEY room_invites_by_room (room_id, id),
    CONSTRAINT room_invites_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE moderation_actions (
    id        BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    room_id   BIGINT       NOT NULL,
    action    VARCHAR(32)  NOT NULL,
    actor_id  BIGINT       NOT NULL,
    target_id BIGINT       NULL,
    reason    VARCHAR(800) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    detail    VARCHAR(800) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    at        DATETIME(3)  NOT NULL,
    KEY moderation_actions_by_room (room_id, id),
    CONSTRAINT moderation_actions_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
