"""The page each role lands on after a launch."""
