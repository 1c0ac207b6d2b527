-- Full-text search over messages: a posting list per term, one row per term and
-- message. A term is a word or a CJK character as the server's tokenizer writes it
-- (src/models/search_terms.rs), compared as bytes. Not InnoDB FULLTEXT: it reads every
-- match of a word before it can order them, about a second for a common word in a
-- million messages, where a posting list read backwards along its primary key stops
-- at the page. A deleted message has no rows.
CREATE TABLE message_terms (
    term       VARBINARY(255) NOT NULL,
    message_id BIGINT         NOT NULL,
    room_id    BIGINT         NOT NULL,
    PRIMARY KEY (term, message_id),
    -- A search in one room.
    KEY message_terms_in_room (term, room_id, message_id),
    -- Taking a message out.
    KEY message_terms_of_message (message_id)
    -- No foreign key to messages: its check would hold a shared lock on every message
    -- the indexer writes until the indexer commits, and an edit, a reaction or a delete
    -- of one of them (under the writer's lock on message_sequence) would wait for it,
    -- stalling every node's writer. A deleted room's rows go with it in code
    -- (SearchIndex::remove_room); searches join rooms, so none can outlive it unseen.
) ENGINE = InnoDB;

-- The mentions of history stored before this migration are found by the server when
-- it starts (the tokenizer is Rust, not SQL): messages up to `through_id`, `done_id` so
-- far. The index is not written under the writer's lock here (src/models/search.rs): it
-- follows the commit order, and `indexed_seq` is how far it has come (0: all history
-- is indexed at the first start).
CREATE TABLE search_backfill (
    id          INT    NOT NULL PRIMARY KEY,
    done_id     BIGINT NOT NULL,
    through_id  BIGINT NOT NULL,
    indexed_seq BIGINT NOT NULL DEFAULT 0
) ENGINE = InnoDB;
INSERT INTO search_backfill (id, done_id, through_id)
    SELECT 1, 0, last_message_id FROM message_sequence WHERE id = 1;

-- Who a message names as @nickname (members of its room).
CREATE TABLE message_mentions (
    message_id BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    room_id    BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id),
    KEY message_mentions_by_user (user_id, room_id, message_id),
    CONSTRAINT message_mentions_message FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE,
    CONSTRAINT message_mentions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;
