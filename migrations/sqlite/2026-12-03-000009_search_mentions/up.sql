-- Full-text search over messages (FTS5). `terms` is the message's text as the server's
-- tokenizer writes it (src/models/search_terms.rs: words, and each CJK character as a
-- term of its own so that substrings match); the rowid is the message id. A deleted
-- message has no row.
CREATE VIRTUAL TABLE message_search USING fts5(
    terms,
    room_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- History stored before this migration is indexed by the server when it starts (the
-- tokenizer is Rust, not SQL): messages up to `through_id`, `done_id` so far.
CREATE TABLE search_backfill (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    done_id    BIGINT NOT NULL,
    through_id BIGINT NOT NULL
);
INSERT INTO search_backfill (id, done_id, through_id)
    SELECT 1, 0, last_message_id FROM message_sequence WHERE id = 1;

-- Who a message names as @nickname (members of its room).
CREATE TABLE message_mentions (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
-- Counting a user's mentions after their read marker, room by room.
CREATE INDEX message_mentions_by_user ON message_mentions (user_id, room_id, message_id);
