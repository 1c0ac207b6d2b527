DROP TABLE reactions;
DROP TABLE message_edits;
DROP INDEX messages_by_seq;
DROP INDEX messages_by_room_seq;
ALTER TABLE messages DROP COLUMN deleted;
ALTER TABLE messages DROP COLUMN edited_at;
ALTER TABLE messages DROP COLUMN reply_to;
ALTER TABLE messages DROP COLUMN seq;
