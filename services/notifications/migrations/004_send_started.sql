-- Meta has no idempotency key. A WhatsApp send is marked started, committed before the provider is
-- called, and cleared with its outcome; a queued message whose lease expired with the mark still set
-- may have been accepted, so the next claim waits for Meta's status webhook (which names our message
-- id in biz_opaque_callback_data) before sending it again.
ALTER TABLE messages ADD COLUMN send_started_at timestamptz;
