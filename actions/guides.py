"""General questions on using online public services: account, VNeID, submitting
online, paying, tracking a dossier, toàn trình / một phần. "nộp phạt nguội online kiểu gì"
names a procedure: its online steps are the answer, not a guide (actions.resolver decides,
on the same path as every procedure question)."""

from __future__ import annotations

from actions.procedures import ActionAnswerProcedure


class ActionAnswerGuide(ActionAnswerProcedure):
    guides = True

    def name(self) -> str:
        return "action_answer_guide"
