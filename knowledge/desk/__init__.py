"""The officers' desk: handovers (with transcript and, with consent, a contact),
citizens' feedback, and countable events such as referrals to online services.

Stored in SQLite (standard library); one small store used by the API routers.
"""

from knowledge.desk.store import DeskStore, Handover

__all__ = ["DeskStore", "Handover"]
