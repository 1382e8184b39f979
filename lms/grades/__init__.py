"""Grades: progress → the LMS gradebook over LTI Assignment and Grade Services, through a durable outbox."""
