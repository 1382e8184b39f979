"""People who launched the tool, the courses (LTI contexts) they came from and their role there."""
