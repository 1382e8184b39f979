"""Learning progress: item state, self-check attempts, task hand-ins and reviews, and the event log."""
