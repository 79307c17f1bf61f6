-- v9: Retention of the event map; consent reactions and shared locations for withdrawals

-- The conversation an event-map row belongs to, so that the rows of a conversation
-- closed longer than the retention can be deleted. Existing rows get it from their
-- desk or side room, or from the consent prompt they name.
ALTER TABLE event_map ADD COLUMN conversation_id BIGINT;
UPDATE event_map SET conversation_id = (SELECT MIN(c.id) FROM conversation c
	WHERE c.desk_room_id IN (event_map.origin_room, event_map.copy_room)
	   OR c.side_room_id IN (event_map.origin_room, event_map.copy_room));
UPDATE event_map SET conversation_id = (SELECT MIN(p.conversation_id) FROM consent_prompt p
	WHERE event_map.origin_event IN (p.origin, p.origin || '|text'))
WHERE conversation_id IS NULL;
CREATE INDEX event_map_conversation_idx ON event_map (conversation_id);
CREATE INDEX conversation_closed_idx ON conversation (closed_at) WHERE status = 'closed';

-- The customer's reactions that answered a consent prompt: taking one back (a
-- redaction) withdraws what it granted.
CREATE TABLE consent_reaction (
	room_id         TEXT   NOT NULL,
	event_id        TEXT   NOT NULL,
	conversation_id BIGINT NOT NULL REFERENCES conversation (id),
	prompt_origin   TEXT   NOT NULL,
	reaction_key    TEXT   NOT NULL,
	PRIMARY KEY (room_id, event_id)
);
CREATE INDEX consent_reaction_conversation_idx ON consent_reaction (conversation_id);

-- Locations the customer shared in a conversation: when location is withdrawn, their
-- copies in the staff rooms (found through the event map) are redacted.
CREATE TABLE shared_location (
	room_id         TEXT   NOT NULL,
	event_id        TEXT   NOT NULL,
	conversation_id BIGINT NOT NULL REFERENCES conversation (id),
	PRIMARY KEY (room_id, event_id)
);
CREATE INDEX shared_location_conversation_idx ON shared_location (conversation_id);
