-- utf8mb4_bin is a PAD SPACE collation: 'abc' and 'abc ' compared equal, so a second
-- message whose client_id differed only by trailing spaces was silently skipped by the
-- idempotency key. Bytes compare exactly.
ALTER TABLE messages MODIFY client_id VARBINARY(256) NOT NULL;
