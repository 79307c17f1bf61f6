-- v17: Agent tools: canned replies, wrap-up codes and notes, satisfaction surveys

-- Canned replies a tenant set through the admin API; they override the config's
-- replies of the same name.
CREATE TABLE canned_reply (
	tenant_id  TEXT   NOT NULL,
	name       TEXT   NOT NULL,
	body       TEXT   NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, name)
);

-- The wrap-up of each ended conversation whose tenant has wrap-up codes: the
-- question put to the agent who served it last (in their control room, named origin
-- in the event map), the codes it offered (JSON), its deadline, and what the agent
-- answered: the code, a note, how and when. One per conversation.
CREATE TABLE wrap_up (
	conversation_id BIGINT PRIMARY KEY REFERENCES conversation (id),
	tenant_id       TEXT   NOT NULL,
	agent           TEXT   NOT NULL,
	room_id         TEXT   NOT NULL,
	origin          TEXT   NOT NULL,
	codes           TEXT   NOT NULL,
	asked_at        BIGINT NOT NULL,
	deadline        BIGINT NOT NULL,
	code            TEXT   NOT NULL DEFAULT '',
	note            TEXT   NOT NULL DEFAULT '',
	settled_at      BIGINT,
	settled_by      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX wrap_up_open_idx ON wrap_up (deadline) WHERE settled_at IS NULL;
CREATE INDEX wrap_up_agent_idx ON wrap_up (tenant_id, agent, asked_at);

-- The satisfaction survey of each conversation an agent ended with the customer still
-- there: the poll in the customer room (named origin in the event map), until when a
-- text answer counts, and the rating (1-5) with how and when it was given. One per
-- conversation, so a second survey is never sent.
CREATE TABLE survey (
	conversation_id BIGINT PRIMARY KEY REFERENCES conversation (id),
	tenant_id       TEXT   NOT NULL,
	room_id         TEXT   NOT NULL,
	origin          TEXT   NOT NULL,
	question        TEXT   NOT NULL,
	asked_at        BIGINT NOT NULL,
	deadline        BIGINT NOT NULL,
	rating          INTEGER,
	method          TEXT   NOT NULL DEFAULT '',
	answered_at     BIGINT
);
CREATE INDEX survey_room_idx ON survey (room_id, asked_at);
