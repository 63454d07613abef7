"""The Gemini models this project knows about: release, announced shutdown, replacement, source.

Facts expire: a model that is "current" today gets a shutdown date later. This table is the one
place those facts live; `archivist:gemini` refuses a model whose shutdown has passed (naming the
replacement), docs/gemini-models.md is generated from it (`markdown_table`, checked by
tests/test_gemini.py), and a test fails once a default's announced shutdown date is behind us.

Sources (stored copies, read 2026-12-06; none is newer than the dates given, so a shutdown
announced after them is not here: `ops models` and the pre-flight Job ask the live API):
- DEPRECATIONS: ai.google.dev/gemini-api/docs/deprecations, newest stored copy (it lists
  gemini-3.8-live, released 2026-09-15, so it is from that date or later; undated).
- CHANGELOG: ai.google.dev/gemini-api/docs/changelog, stored copies up to the 2026-07-21 entry.
- AIDEPRECATIONS: dev.to/aideprecations "... retired on December 1, 2026" (third party, quoting
  the deprecations page as read 2026-11-10).
- EMBEDDING2: third-party reports of Gemini Embedding 2 GA on 2026-04-22 (thedailyscout.com,
  yet-another-changelog.ai), which also say gemini-embedding-001 stays for text-only workloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Kind = Literal["generation", "embedding"]

DEPRECATIONS = "ai.google.dev/gemini-api/docs/deprecations (stored copy, >= 2026-09-15)"
CHANGELOG = "ai.google.dev/gemini-api/docs/changelog"
AIDEPRECATIONS = "dev.to/aideprecations (quotes the deprecations page as read 2026-11-10)"
EMBEDDING2 = "thedailyscout.com, yet-another-changelog.ai (Gemini Embedding 2 GA, 2026-04-22)"
# The day these facts were last checked against the sources above.
CHECKED = date(2026, 12, 6)


@dataclass(frozen=True)
class GeminiModel:
    id: str  # as the API names it, without the `models/` prefix
    kind: Kind
    released: date | None
    shutdown: date | None  # announced (earliest) shutdown; None: none announced
    replacement: str | None
    source: str
    note: str = ""
    shut_down_undated: bool = False  # known shut down, date not in the stored sources

    def is_shut_down(self, today: date) -> bool:
        return self.shut_down_undated or (self.shutdown is not None and self.shutdown <= today)


MODELS: tuple[GeminiModel, ...] = (
    # -- current: what the defaults are chosen from ------------------------------------------------
    GeminiModel("gemini-3.5-flash", "generation", date(2026, 5, 19), None, None,
                f"{DEPRECATIONS}; {CHANGELOG} 2026-05-19 (GA), 2026-06-01 (named the 2.0 replacement)"),
    GeminiModel("gemini-3.6-flash", "generation", date(2026, 7, 21), None, None, f"{DEPRECATIONS}; {CHANGELOG} 2026-07-21"),
    GeminiModel("gemini-3.5-flash-lite", "generation", date(2026, 7, 21), None, None,
                f"{DEPRECATIONS}; {CHANGELOG} 2026-07-21"),
    GeminiModel("gemini-3.7-flash", "generation", date(2026, 8, 13), None, None, DEPRECATIONS),
    GeminiModel("gemini-3.8-flash", "generation", date(2026, 9, 2), None, None, DEPRECATIONS),
    GeminiModel("gemini-3.1-flash-lite", "generation", date(2026, 5, 7), date(2027, 5, 7), None,
                f"{DEPRECATIONS}; {CHANGELOG} 2026-05-07 (GA)"),
    GeminiModel("gemini-embedding-001", "embedding", date(2025, 7, 14), None, None,
                f"{DEPRECATIONS} (no entry); {CHANGELOG} (no deprecation notice up to 2026-07-21); {EMBEDDING2}",
                note="outputDimensionality 768 keeps the 768-d collections"),
    GeminiModel("gemini-embedding-2", "embedding", date(2026, 4, 22), None, None, EMBEDDING2,
                note="multimodal; not in the official stored copies"),
    # -- shut down: refused by `archivist:gemini`, with the replacement -------------------------------
    GeminiModel("gemini-2.5-flash", "generation", date(2025, 6, 17), date(2026, 12, 1), "gemini-3.5-flash-lite",
                AIDEPRECATIONS, note="the official stored copy said 'June 17, 2026' (earliest)"),
    GeminiModel("gemini-2.5-pro", "generation", date(2025, 6, 17), date(2026, 12, 1), "gemini-3.8-flash",
                AIDEPRECATIONS, note="the official stored copy said 'June 17, 2026' (earliest)"),
    GeminiModel("gemini-2.0-flash", "generation", date(2025, 2, 5), date(2026, 6, 1), "gemini-3.5-flash",
                f"{CHANGELOG} 2026-02-18 (notice), 2026-06-01 (shut down)",
                note="the worker's only mode at f27c790 (internal/ui/ui.go:58)"),
    GeminiModel("gemini-2.0-flash-001", "generation", date(2025, 2, 5), date(2026, 6, 1), "gemini-3.5-flash",
                f"{CHANGELOG} 2026-06-01"),
    GeminiModel("gemini-2.0-flash-lite", "generation", date(2025, 2, 25), date(2026, 6, 1), "gemini-3.1-flash-lite",
                f"{CHANGELOG} 2026-06-01"),
    GeminiModel("gemini-2.0-flash-lite-001", "generation", date(2025, 2, 25), date(2026, 6, 1),
                "gemini-3.1-flash-lite", f"{CHANGELOG} 2026-06-01"),
    GeminiModel("gemini-2.0-flash-exp", "generation", None, None, "gemini-3.5-flash",
                "github.com/langgenius/dify-official-plugins/issues/2515 (lists it shut down); audit app-2026-12",
                note="graph metadata_extractor.py:35 and the worker's methodology stage at f27c790",
                shut_down_undated=True),
    GeminiModel("gemini-3-pro-preview", "generation", date(2025, 11, 18), date(2026, 3, 9), "gemini-3.1-pro-preview",
                DEPRECATIONS),
    GeminiModel("gemini-3.1-flash-lite-preview", "generation", date(2026, 3, 3), date(2026, 5, 25),
                "gemini-3.1-flash-lite", f"{CHANGELOG} 2026-05-07, 2026-05-25"),
    GeminiModel("text-embedding-004", "embedding", date(2024, 5, 14), date(2026, 1, 14), "gemini-embedding-001",
                f"{CHANGELOG} 2026-01-14", note="search vector_store.py:51 and graph semantic_search.py:22 at f27c790"),
    GeminiModel("embedding-001", "embedding", None, date(2025, 10, 30), "gemini-embedding-001",
                "Google's notice of 2025 (git.drupalcode.org/project/gemini_provider work item 3550425)"),
)

BY_ID = {m.id: m for m in MODELS}

DEFAULT_GENERATION_MODEL = "gemini-3.5-flash"
DEFAULT_EMBEDDING_MODEL = "gemini-embedding-001"
DEFAULT_EMBEDDING_DIMENSIONS = 768  # the Qdrant collections' size (the upstream config.yaml's qdrant.vector.size)


def bare_id(model: str) -> str:
    """`models/gemini-3.5-flash` and `gemini-3.5-flash` name the same model."""
    return model.removeprefix("models/")


def lookup(model: str) -> GeminiModel | None:
    return BY_ID.get(bare_id(model))


def refusal(model: str, today: date) -> str | None:
    """Why `model` cannot be used today (shut down), or None when the table knows nothing against it."""
    known = lookup(model)
    if known is None or not known.is_shut_down(today):
        return None
    when = f"on {known.shutdown.isoformat()}" if known.shutdown else "(date not recorded)"
    fix = f"use '{known.replacement}'" if known.replacement else "choose a current model from docs/gemini-models.md"
    return f"'{bare_id(model)}' was shut down on the Gemini API {when} ({known.source}); {fix}"


def _cell(value: object) -> str:
    return "—" if value in (None, "") else str(value)


def markdown_table() -> str:
    """The table as docs/gemini-models.md carries it (generated; a test compares the two)."""
    rows = ["| model | kind | released | announced shutdown | replacement | source | note |",
            "|---|---|---|---|---|---|---|"]
    for m in MODELS:
        shutdown = m.shutdown.isoformat() if m.shutdown else ("shut down (undated)" if m.shut_down_undated
                                                               else "none announced")
        rows.append(f"| `{m.id}` | {m.kind} | {_cell(m.released)} | {shutdown} | {_cell(m.replacement)} | "
                    f"{m.source} | {_cell(m.note)} |")
    return "\n".join(rows) + "\n"
