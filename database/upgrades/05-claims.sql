-- v5: Atomic claims: queue priority, missed offers

-- The queue's order is priority (higher first), then age: the index serves the
-- waiting list of a tenant in that order, and replaces the one by age only.
ALTER TABLE conversation ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX conversation_waiting_idx;
CREATE INDEX conversation_queue_idx ON conversation (tenant_id, status, priority DESC, opened_at, id);

-- Open offers by age, for offer timeouts (closed conversations pile up; these do not).
CREATE INDEX conversation_offer_idx ON conversation (offered_at) WHERE status = 'offered';

-- An agent's current conversations: every claim counts them to check the capacity.
CREATE INDEX conversation_staff_agent_idx ON conversation_staff (user_id) WHERE role = 'agent' AND removed_at IS NULL;

-- Offers in a row an agent let lapse, for RONA (redirection on no answer): a timeout
-- adds one, an answer resets it.
ALTER TABLE staff ADD COLUMN missed_offers INTEGER NOT NULL DEFAULT 0;
