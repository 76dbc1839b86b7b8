"""The ideas notebook over the database: create, edit, list and search, and promote an
idea into a project (rendering it as Markdown or CSV is render/ideas.py).

The notebook is shared: everyone in the organisation may read it, so parishes see what
their neighbours plan. An idea is written by the people who act for its unit (its parish
staff, central staff) and by its proposer. Each write is one transaction and checks the
idea's version, so an expected version works as it does for projects.

`views` holds what the notebook shows, `reading` the reads, `writing` adding and
editing, `promotion` turning an idea into a project.
"""

from engine.ideas.promotion import promote_idea
from engine.ideas.reading import count_by_status, get_idea, list_ideas
from engine.ideas.views import IdeaView, Promotion, parse_ref
from engine.ideas.writing import EDITABLE, create_idea, edit_idea

__all__ = [
    "EDITABLE",
    "IdeaView",
    "Promotion",
    "count_by_status",
    "create_idea",
    "edit_idea",
    "get_idea",
    "list_ideas",
    "parse_ref",
    "promote_idea",
]
