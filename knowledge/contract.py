"""The /search contract, shared by the knowledge service (which answers with it) and the actions'
client (which reads it): one definition, so the two cannot drift. Pydantic only, no index code,
so that importing it costs the action server nothing.

A reply holds the ranked ``results`` and the service's ``match`` decision, taken with the
thresholds calibrated for the index build that answered (``meta.json``, knowledge.index.calibration):

- ``confident``: ``candidates`` is the one record the question is about;
- ``ambiguous``: several records score close together; ``candidates`` are them, best first, for the
  citizen to choose between;
- ``none``: nothing scores high enough to answer; ``candidates`` is empty (``results`` may still hold
  weak suggestions).

``notices`` are the rules in force that the question seems to overlook (the 2024–2025 reforms of the
knowledge base, knowledge.catalogue.reforms): the actions say them before the answer.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict

KindName = Literal["procedure", "guide", "directive"]
DecisionName = Literal["confident", "ambiguous", "none"]


class SearchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: KindName
    id: str
    title: str
    snippet: str
    score: float
    url: Optional[str] = None
    doc_number: Optional[str] = None
    source: Optional[str] = None
    section: Optional[str] = None


class Match(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: DecisionName
    candidates: list[str] = []  # record ids, a subset of the results' ids, best first


class Notice(BaseModel):
    """A rule in force the question overlooks ("nộp ở UBND huyện": there is no district level any more)."""

    model_config = ConfigDict(frozen=True)

    id: str
    rule: str
    basis: str
    guide: Optional[str] = None


class SearchResponse(BaseModel):
    results: list[SearchResult]
    match: Match = Match(decision="none")
    notices: list[Notice] = []

    def candidates(self) -> list[SearchResult]:
        """The results the decision names, in its order."""
        by_id = {r.id: r for r in self.results}
        return [by_id[i] for i in self.match.candidates if i in by_id]
