-- v3: Conversation rooms: offers, assignment, desk and side rooms, the event map

-- Who the conversation is offered to and who serves it, and its two staff rooms: the
-- desk room (agents and the customer's ghost) and the side room (agents, supervisors,
-- the business identity; never relayed).
ALTER TABLE conversation ADD COLUMN offered_to TEXT;
ALTER TABLE conversation ADD COLUMN offered_at BIGINT;
ALTER TABLE conversation ADD COLUMN agent_user_id TEXT;
ALTER TABLE conversation ADD COLUMN assigned_at BIGINT;
ALTER TABLE conversation ADD COLUMN ghost_user_id TEXT;
ALTER TABLE conversation ADD COLUMN desk_room_id TEXT;
ALTER TABLE conversation ADD COLUMN side_room_id TEXT;
CREATE UNIQUE INDEX conversation_desk_idx ON conversation (desk_room_id);
CREATE UNIQUE INDEX conversation_side_idx ON conversation (side_room_id);
CREATE INDEX conversation_waiting_idx ON conversation (tenant_id, status, opened_at);

-- Staff taking part in a conversation: agents (desk and side room) and monitors (side
-- room only). Rows are kept after removal for the record.
CREATE TABLE conversation_staff (
	conversation_id BIGINT NOT NULL REFERENCES conversation (id),
	user_id         TEXT   NOT NULL,
	role            TEXT   NOT NULL,
	added_at        BIGINT NOT NULL,
	removed_at      BIGINT,
	PRIMARY KEY (conversation_id, user_id)
);

-- The event map: every relayed or mirrored event, from its origin (room, event) to its
-- copy in another room. The copy's event ID is known once the outbox has sent it, so
-- the row names the outbox entry and is completed then. author is who really wrote
-- the origin (for the audit: which agent spoke as the business identity).
CREATE TABLE event_map (
	origin_room  TEXT NOT NULL,
	origin_event TEXT NOT NULL,
	copy_room    TEXT NOT NULL,
	outbox_key   TEXT NOT NULL UNIQUE,
	copy_event   TEXT,
	author       TEXT NOT NULL,
	PRIMARY KEY (origin_room, origin_event, copy_room)
);
CREATE INDEX event_map_copy_idx ON event_map (copy_room, copy_event);

-- Outbox entries whose content refers to events (replies, edits, reactions,
-- redactions) of another room: the references are translated through the event map
-- when sent, once the referenced copies exist.
ALTER TABLE outbox ADD COLUMN refs_from TEXT;

-- Each tenant's Matrix space, which groups its staff rooms in Element.
CREATE TABLE tenant_space (
	tenant_id TEXT PRIMARY KEY,
	room_id   TEXT NOT NULL
);

-- Each business identity's device and its access token, reused across restarts: a
-- homeserver deduplicates a resent transaction ID only for the same access token, so
-- logging in again at every start would double a message whose send was cut short.
CREATE TABLE business_device (
	user_id      TEXT PRIMARY KEY,
	device_id    TEXT NOT NULL,
	access_token TEXT NOT NULL
);
