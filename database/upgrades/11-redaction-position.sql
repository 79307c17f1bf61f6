-- v11: Desk-room redaction positions

-- Where the service last read each open conversation's desk room for redactions
-- (a /messages pagination token), for homeservers that push none to appservices. Kept
-- so that a restart goes on from there instead of reading the room's history again.
CREATE TABLE redaction_position (
	room_id  TEXT PRIMARY KEY,
	position TEXT NOT NULL
);
