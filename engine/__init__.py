"""The runtime: compiled schemes and their state machines, permissions, the service API
that every front end calls, and the audit chain."""
