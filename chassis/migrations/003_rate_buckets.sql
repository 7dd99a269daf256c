-- Token buckets for a provider's rate limits, shared by every replica of a service (ADR 140): one row
-- per bucket (platform, account, operation); a call takes a token under the row's lock.
CREATE TABLE rate_buckets (
    bucket      text             PRIMARY KEY,
    tokens      double precision NOT NULL,
    updated_at  timestamptz      NOT NULL
);
