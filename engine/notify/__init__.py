"""Notifications: who receives what and why (recipients), what a message says (context,
messages and the templates in engine/templates/), the outbox that delivers it through
the channels, the daily digest, and the sweep that fires deadline timers."""
