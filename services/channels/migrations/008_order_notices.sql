-- Amazon's ORDER_CHANGE notifications (ADR 420): where an account's are delivered (an SQS queue the
-- seller's application subscribed), and the access key that may receive from it and delete. No
-- queue: the account is polled only, as before; with one, the poll still runs behind it.
ALTER TABLE channel_accounts
    ADD COLUMN sqs_queue_url         text,
    ADD COLUMN sqs_region            text,
    ADD COLUMN sqs_access_key_id     text NOT NULL DEFAULT '',
    ADD COLUMN sqs_secret_access_key text NOT NULL DEFAULT '';
