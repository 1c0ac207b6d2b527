DROP TABLE reactions;
DROP TABLE message_edits;
DROP INDEX messages_by_seq ON messages;
DROP INDEX messages_by_room_seq ON messages;
ALTER TABLE messages DROP COLUMN deleted, DROP COLUMN edited_at, DROP COLUMN reply_to, DROP COLUMN seq;
