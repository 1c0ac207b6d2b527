-- The last message id in commit order, across all rooms: every batch of messages
-- reads it (as the `prev` of its first message) and moves it, inside its transaction.
-- Nodes use the chain of `prev` ids to deliver every message once, in order.
CREATE TABLE message_sequence (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_message_id BIGINT  NOT NULL
);
INSERT INTO message_sequence (id, last_message_id) SELECT 1, COALESCE(MAX(id), 0) FROM messages;
