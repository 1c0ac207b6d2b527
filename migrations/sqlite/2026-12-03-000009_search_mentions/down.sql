DROP TABLE message_mentions;
DROP TABLE search_backfill;
DROP TABLE message_search;
