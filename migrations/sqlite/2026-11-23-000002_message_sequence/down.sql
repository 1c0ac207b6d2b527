DROP TABLE message_sequence;
