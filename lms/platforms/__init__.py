"""Chambers (tenants), LMS registrations, deployments and the tool's keys."""
