"""Rosters: who is enrolled in a course, from LTI Names and Role Provisioning Services."""
