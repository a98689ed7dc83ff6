"""Intent classification on the held-out split (bot/tests/nlu_test.yml, never trained on).

Run in the Rasa environment:  .venv-rasa/bin/python bench/nlu_eval.py [--model models/x.tar.gz]
Prints JSON and writes docs/NLU.md: macro-F1 and per-intent F1 overall, on unaccented
utterances (no diacritics) and on abbreviated ones (containing cccd, gplx, ko, dc, …).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench.report import machine  # noqa: E402
from knowledge.text import fold, syllables  # noqa: E402
from knowledge.text.abbreviations import ABBREVIATIONS  # noqa: E402


def f1_table(pairs: list[tuple[str, str]]) -> dict[str, object]:
    labels = sorted({g for g, _ in pairs})
    per: dict[str, float] = {}
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per[label] = round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0
    macro = round(sum(per.values()) / len(per), 4) if per else 0.0
    accuracy = round(sum(1 for g, p in pairs if g == p) / len(pairs), 4) if pairs else 0.0
    return {"n": len(pairs), "macro_f1": macro, "accuracy": accuracy, "per_intent": per}


def is_unaccented(text: str) -> bool:
    return fold(text) == text.lower()


def is_abbreviated(text: str) -> bool:
    short = {k for k, v in ABBREVIATIONS.items() if k != v.replace(" ", "")}
    return any(tok in short for tok in syllables(text))


async def predict(model: str, texts: list[str]) -> list[str]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(model)
    out = []
    for t in texts:
        parsed = await agent.parse_message(t)
        # As deployed (nlu_fallback when unsure) and the classifier's own best intent.
        ranking = [r["name"] for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
        out.append((parsed["intent"]["name"], ranking[0] if ranking else parsed["intent"]["name"]))
    return out


def main() -> int:
    from rasa.shared.nlu.training_data.loading import load_data

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="")
    ap.add_argument("--test", default=str(ROOT / "bot" / "tests" / "nlu_test.yml"))
    ap.add_argument("--record", default=str(ROOT / "docs" / "NLU.md"))
    args = ap.parse_args()
    model = args.model or str(sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)[-1])
    data = load_data(args.test)
    examples = [(m.get("text"), m.get("intent")) for m in data.intent_examples]
    both = asyncio.run(predict(model, [t for t, _ in examples]))
    preds = [deployed for deployed, _ in both]
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (text, gold), (deployed, classifier) in zip(examples, both, strict=True):
        groups["overall"].append((gold, deployed))
        groups["classifier"].append((gold, classifier))
        if is_unaccented(text):
            groups["unaccented"].append((gold, deployed))
        if is_abbreviated(text):
            groups["abbreviated"].append((gold, deployed))
    report = {name: f1_table(pairs) for name, pairs in groups.items()}
    report["fallback_rate"] = round(sum(1 for p in preds if p == "nlu_fallback") / len(preds), 4)
    report["model"] = Path(model).name
    errors = [{"text": t, "gold": g, "pred": p} for (t, g), p in zip(examples, preds, strict=True) if g != p]
    report["errors"] = errors
    summary = {k: (v["macro_f1"] if isinstance(v, dict) else v) for k, v in report.items() if k != "errors"}
    print(json.dumps(summary, ensure_ascii=False))
    write_doc(Path(args.record), report)
    return 0


def write_doc(path: Path, report: dict) -> None:
    lines = ["# NLU evaluation", "",
             f"_{dt.date.today().isoformat()}, {machine()}; model `{report['model']}`;"
             " held-out split `bot/tests/nlu_test.yml` (never trained on); `make nlu-eval` regenerates this page._", "",
             "Predictions are counted as deployed: a message below the FallbackClassifier threshold (0.4) is"
             " `nlu_fallback` and counts as an error, although the bot then searches the knowledge base and offers"
             f" buttons. The `classifier` row is the DIET classifier's own best intent. Fallback rate:"
             f" {report['fallback_rate']}.", "",
             "| subset | n | macro-F1 | accuracy |", "| --- | --- | --- | --- |"]
    for name in ("overall", "unaccented", "abbreviated", "classifier"):
        r = report.get(name)
        if r:
            lines.append(f"| {name} | {r['n']} | {r['macro_f1']} | {r['accuracy']} |")
    lines += ["", "## Per-intent F1", "", "| intent | overall | unaccented | abbreviated |",
              "| --- | --- | --- | --- |"]
    for intent in report["overall"]["per_intent"]:
        cells = [str(report.get(g, {}).get("per_intent", {}).get(intent, "—")) for g in
                 ("overall", "unaccented", "abbreviated")]
        lines.append(f"| {intent} | " + " | ".join(cells) + " |")
    lines += ["", f"## Errors ({len(report['errors'])})", "", "| text | expected | predicted |", "| --- | --- | --- |"]
    lines += [f"| {e['text']} | {e['gold']} | {e['pred']} |" for e in report["errors"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
