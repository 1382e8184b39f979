"""E-mail: an outbox of messages, delivered through SMTP (or stored and shown on /demo-mail/ in the demo and
the tests)."""
