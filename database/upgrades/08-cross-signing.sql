-- v8: Cross-signing identities of the business identities

-- Each business identity's cross-signing identity: the public master key (what
-- customers' clients pin) and the three private seeds, sealed with the pickle key.
-- One row per identity for ever: a second identity would make every customer's
-- client warn that the business changed identity.
CREATE TABLE cross_signing_identity (
	user_id    TEXT   PRIMARY KEY,
	master_key TEXT   NOT NULL,
	seeds      TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
