-- v10: Staff taken off the config

-- When someone left a tenant's staff (the config no longer lists them): the service
-- then took them out of every room their role gave them, once. Put back on the staff,
-- they are invited again and this is cleared.
ALTER TABLE staff ADD COLUMN removed_at BIGINT;
