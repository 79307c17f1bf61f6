-- v2: Staff control rooms and availability

-- One row per staff member of a tenant: their control room (a DM with the tenant's
-- business identity) and their availability.
CREATE TABLE staff (
	tenant_id         TEXT   NOT NULL,
	user_id           TEXT   NOT NULL,
	control_room_id   TEXT   UNIQUE,
	status            TEXT   NOT NULL DEFAULT 'offline',
	status_changed_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, user_id)
);
