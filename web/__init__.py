"""The web interface: server-rendered pages over the engine service API; no rule lives here."""
