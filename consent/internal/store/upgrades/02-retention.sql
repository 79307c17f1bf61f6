-- v1 -> v2: Indexes for pruning by age: page views, the access log, expired codes

CREATE INDEX page_view_at_idx ON page_view (at);
CREATE INDEX access_log_at_idx ON access_log (at);
CREATE INDEX one_time_code_expiry_idx ON one_time_code (expires_at);
