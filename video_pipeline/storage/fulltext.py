"""Owner-scoped full-text search over `retrievable_text.tsv`.

Each chunk's `tsvector` is built with its project's language (a Postgres text search
configuration); ISO 639-1 codes map to the configurations Postgres ships, anything else to
'simple' (no stemming, no stopwords), which still matches codes and names exactly.
"""

from __future__ import annotations

import sqlalchemy as sa

from video_pipeline.storage.hits import SearchHit

# The configurations PostgreSQL 17+ ships (snowball stemmers), by ISO 639-1 code.
TEXT_SEARCH_CONFIGS = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
FALLBACK_CONFIG = "simple"


def text_search_config(language: str) -> str:
    """The configuration for a language code such as 'en', 'de-AT' or 'pt_BR'."""
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return TEXT_SEARCH_CONFIGS.get(code, FALLBACK_CONFIG)


_TEXT_QUERY = sa.text(
    "SELECT id, project_id, kind, ref, content, "
    "ts_rank(tsv, websearch_to_tsquery(CAST(:config AS regconfig), :query)) AS score "
    "FROM retrievable_text "
    "WHERE owner_id = :owner AND model = :model "
    "AND tsv @@ websearch_to_tsquery(CAST(:config AS regconfig), :query) "
    "ORDER BY score DESC, id LIMIT :limit"
)


def text_matches(
    conn: sa.Connection, owner_id: str, model: str, query: str, language: str, limit: int
) -> list[SearchHit]:
    """Chunks containing every word of the query (web-search syntax: "phrases", -not, or),
    most frequent matches first.

    `ts_rank` (how often the query's words occur) rather than `ts_rank_cd` (how close together
    they are): both score every matching chunk, and cover density took twice as long, 9 ms
    against 5 ms for a large owner's 2,000 matches."""
    rows = conn.execute(
        _TEXT_QUERY,
        {
            "config": text_search_config(language),
            "query": query,
            "owner": owner_id,
            "model": model,
            "limit": limit,
        },
    ).all()
    return [SearchHit.from_row(r) for r in rows]
