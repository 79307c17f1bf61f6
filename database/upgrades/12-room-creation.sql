-- v12: Room creations under way

-- A room the service is about to create, written (and committed) before the
-- homeserver is asked, and deleted in the transaction that records the room. A row
-- that outlives its creation names a room that may exist on the homeserver but that
-- nothing records (the service crashed or failed in between): its creator finds the
-- room by the token in its m.room.create content and leaves it. run tells one start of
-- the service from the next, so that a single process knows every row of an earlier
-- run is abandoned.
CREATE TABLE room_creation (
	token      TEXT   PRIMARY KEY,
	tenant_id  TEXT   NOT NULL,
	purpose    TEXT   NOT NULL,
	creator    TEXT   NOT NULL,
	run        TEXT   NOT NULL,
	started_at BIGINT NOT NULL
);
