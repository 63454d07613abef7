"""The `gemini` section: which Gemini models the patched services call.

The pinned application hard-codes models that have been shut down (audit app-2026-12); the
patches (images/patches/) read the model ids from config.yaml (worker) and the environment
(search, graph) instead, and this section is where the deployment takes them from. A model the
table in gemini_models.py knows to be shut down is refused here, naming the replacement; one the
table does not know is accepted (new models appear faster than this table) and checked against
the live API by the pre-flight Job and `ops models`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..gemini_models import (
    DEFAULT_EMBEDDING_DIMENSIONS,
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_GENERATION_MODEL,
    bare_id,
    lookup,
    refusal,
)
from .reader import ConfigReader

# A model id as the API spells it (`gemini-3.5-flash`), optionally with its `models/` prefix.
_MODEL_ID = re.compile(r"^(models/)?[a-z0-9][a-z0-9.-]{0,62}$")


@dataclass(frozen=True)
class GeminiSettings:
    generation_model: str = DEFAULT_GENERATION_MODEL  # bare id, e.g. gemini-3.5-flash
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS
    preflight: bool = True  # a Job on `pulumi up` asks the API for each model before the apps roll

    @property
    def models(self) -> tuple[str, ...]:
        return (self.generation_model, self.embedding_model)


def today() -> date:
    return datetime.now(UTC).date()


def parse_gemini(root: ConfigReader, *, on: date | None = None) -> GeminiSettings:
    section = root.section("gemini")
    day = on or today()
    hint = "a model id such as 'gemini-3.5-flash' (see docs/gemini-models.md)"
    generation = section.string("generationModel", DEFAULT_GENERATION_MODEL, pattern=_MODEL_ID, hint=hint)
    embedding = section.string("embeddingModel", DEFAULT_EMBEDDING_MODEL, pattern=_MODEL_ID, hint=hint)
    dimensions = section.integer("embeddingDimensions", DEFAULT_EMBEDDING_DIMENSIONS, minimum=128, maximum=3072)
    preflight = section.boolean("preflight", True)
    section.reject_unknown()
    for key, model, kind in (("generationModel", generation, "generation"), ("embeddingModel", embedding, "embedding")):
        why = refusal(model, day)
        if why is not None:
            section.problems.add(section.key(key), why)
            continue
        known = lookup(model)
        if known is not None and known.kind != kind:
            section.problems.add(section.key(key), f"'{bare_id(model)}' is an {known.kind} model, not a {kind} "
                                 f"model; use e.g. '{DEFAULT_GENERATION_MODEL if kind == 'generation' else DEFAULT_EMBEDDING_MODEL}'")
    if dimensions != DEFAULT_EMBEDDING_DIMENSIONS:
        # Search creates its collection with 768-d vectors (services/search-engine/app/vector_store.py:43,76-77)
        # and the upstream config.yaml says qdrant.vector.size 768: another size would not fit the stored vectors.
        section.problems.add(section.key("embeddingDimensions"),
                             f"{dimensions}: the services' Qdrant collections hold {DEFAULT_EMBEDDING_DIMENSIONS}-d "
                             f"vectors; keep {DEFAULT_EMBEDDING_DIMENSIONS} (remove the key)")
    return GeminiSettings(generation_model=bare_id(generation), embedding_model=bare_id(embedding),
                          embedding_dimensions=dimensions, preflight=preflight)
