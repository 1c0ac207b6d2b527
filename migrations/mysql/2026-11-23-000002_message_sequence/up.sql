-- The last message id in commit order, across all rooms: every batch of messages
-- locks it (FOR UPDATE), takes it as the `prev` of its first message and moves it, so
-- that commits from several nodes form one chain. Nodes follow the chain of `prev` ids
-- to deliver every message once and in order, and fill any hole from this database.
CREATE TABLE message_sequence (
    id              INT    NOT NULL PRIMARY KEY,
    last_message_id BIGINT NOT NULL,
    CONSTRAINT message_sequence_single CHECK (id = 1)
) ENGINE = InnoDB;
INSERT INTO message_sequence (id, last_message_id) SELECT 1, COALESCE(MAX(id), 0) FROM messages;
