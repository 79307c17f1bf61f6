-- v7: Room leases for replicas

-- Which replica drains a room's inbox or outbox: one at a time, so that two replicas
-- sharing the database never handle one event or send one row twice. A lease ends
-- when released or when it expires (its holder died).
CREATE TABLE room_lease (
	queue      TEXT   NOT NULL,
	room_id    TEXT   NOT NULL,
	holder     TEXT   NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (queue, room_id)
);
