"""Outreach figures (issue 13): one function, ``figures``, read by the console's dashboard and
by the monthly report, so the two can never disagree for the same period.

    figures.py   Period, Figures and how they are counted from Rasa's event broker and the desk
    clicks.py    the counting redirect's table (procedure, channel, day, clicks; nothing personal)
    report.py    the monthly report as xlsx (openpyxl) or pdf (fpdf2, DejaVu Sans)
"""

from knowledge.analytics.clicks import ClickCounter
from knowledge.analytics.figures import Figures, Period, figures

__all__ = ["ClickCounter", "Figures", "Period", "figures"]
