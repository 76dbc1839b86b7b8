"""The runtime: the rules. The service API every front end calls (service.py), the unit of
work every project change goes through (work.py), the rules of a project's life
(lifecycle.py, moves.py, creation.py), compiled schemes and permissions, deadlines,
notifications (notify/), ideas, planning, reports and the audit."""
