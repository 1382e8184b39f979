"""The audit log: who among coordinators and operators did what, append-only, visible to the chamber."""
