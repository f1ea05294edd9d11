"""Lexicon-based moderation: weighted phrases per category, with negation handling.

A small curated lexicon, not a classifier: it catches explicit wording and says which phrase
scored, and it misses what is only implied. Scores combine like independent evidence
(noisy-OR); repeats of a phrase count at half weight, at most three times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from video_pipeline.providers.base import ModerationScores
from video_pipeline.text.words import word_set

_NEGATORS = word_set(
    """
    not no never without don't doesn't didn't won't isn't aren't wasn't against anti
    prevent prevents preventing prevention avoid stop stopping
    """
)
_NEGATION_WINDOW = 3
_NEGATED_FACTOR = 0.25
_MAX_REPEATS = 3
_TOKEN = re.compile(r"[\w']+")

_TARGET = r"(?:you|him|her|them|everyone|people|us)"
_HAZARD = (
    r"(?:pipe )?bombs?|explosives?|detonators?|napalm|sarin|ricin|nerve agents?|thermite|"
    r"molotov cocktails?|poison gas|chlorine gas"
)
_DRUG = r"cocaine|heroin|meth(?:amphetamine)?|fentanyl|mdma|crack cocaine"

LEXICON: dict[str, list[tuple[str, float]]] = {
    "violence": [
        (rf"i(?:'ll| will|'m going to| am going to) (?:kill|hurt|shoot|stab|find) {_TARGET}", 0.9),
        (rf"(?:kill|murder|shoot|stab|hurt)(?:s|ed|ing)? {_TARGET}", 0.7),
        (r"behead(?:s|ed|ing)?|lynch(?:es|ed|ing)?", 0.7),
        (r"murder(?:s|ed|ing|ous)?|massacre[sd]?|slaughter(?:s|ed|ing)?", 0.45),
        (r"tortur(?:e|es|ed|ing)|stab(?:s|bed|bing)?|bloodbath|bloodshed", 0.4),
        (rf"beat(?:s|en|ing)? {_TARGET} up", 0.5),
        (r"kill(?:s|ed|ing)?", 0.3),
        (r"violen(?:t|ce)|assault(?:s|ed)?", 0.2),
        (r"attack(?:s|ed|ing)?|war|battle|siege", 0.1),
    ],
    "self_harm": [
        (r"kill(?:ing)? myself|end(?:ing)? my (?:own )?life|take my (?:own )?life", 0.8),
        (r"cut(?:ting)? myself|starv(?:e|ing) myself|want(?:ed)? to die", 0.65),
        (r"suicid(?:e|al)|self[- ]harm(?:ing)?", 0.45),
        (r"overdos(?:e|ed|ing)|kill yourself", 0.3),
    ],
    "hate": [
        (
            r"(?:those|these|all) \w+ are (?:vermin|animals|parasites|subhuman|a disease|"
            r"a plague)",
            0.85,
        ),
        (r"ethnic cleansing|master race|racial purity|(?:inferior|superior) race", 0.6),
        (r"go back to (?:your|their) (?:own )?country|subhuman|untermensch", 0.6),
        (r"vermin|parasites", 0.1),
    ],
    "sexual": [
        (r"(?:child|minor|underage)\w* (?:porn\w*|sex\w*|nudes?)", 1.0),
        (r"porn(?:ography|ographic)?|explicit sex(?:ual)?", 0.6),
        (r"erotic|nudes?|naked", 0.3),
        (r"sex(?:ual|y)?", 0.1),
    ],
    "harassment": [
        (r"kill yourself|kys", 0.9),
        (
            r"you(?:'re| are) (?:an? )?(?:\w+ )?(?:idiot|stupid|worthless|pathetic|loser|moron|"
            r"disgusting)",
            0.6,
        ),
        (r"nobody (?:likes|loves|wants) you|i (?:will|know where to) find you", 0.55),
        (r"doxx?(?:ing|ed)?|(?:their|your|her|his) home address", 0.4),
        (r"idiots?|morons?|losers?|shut up", 0.15),
    ],
    "illicit": [
        (
            rf"(?:buy|sell|order|get)(?:s|ing)? (?:\w+ ){{0,2}}(?:{_DRUG}|guns?|firearms?)"
            r" (?:online|without|cheap)",
            0.7,
        ),
        (r"ghost guns?|untraceable (?:gun|firearm)s?|illegal(?:ly)? (?:guns?|firearms?)", 0.55),
        (r"drug deal(?:er|ing|s)?|traffick(?:ing|er|ers)", 0.35),
        (_DRUG, 0.3),
        (r"silencers?|dark ?web|darknet", 0.2),
    ],
    "dangerous_instructions": [
        (
            rf"(?:make|build|assemble|synthesi[sz]e|cook|brew|mix)(?:s|ing)? (?:\w+ ){{0,3}}"
            rf"(?:{_HAZARD}|{_DRUG})",
            0.75,
        ),
        (r"(?:mix|combine)(?:s|ing)? (?:\w+ ){0,2}bleach (?:and|with) (?:\w+ )?ammonia", 0.7),
        (_HAZARD, 0.3),
        (r"(?:bypass|disable)(?:s|ing)? (?:\w+ ){0,2}(?:safety|alarms?|smoke detectors?)", 0.3),
        (r"step[- ]by[- ]step", 0.1),
    ],
}


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern[str]
    weight: float


_COMPILED: dict[str, list[_Entry]] = {
    category: [_Entry(re.compile(rf"\b(?:{p})\b", re.I), w) for p, w in entries]
    for category, entries in LEXICON.items()
}


class LexiconModeration:
    """A `ModerationProvider` that needs no network."""

    name = "offline-lexicon"

    def moderate(self, texts: list[str]) -> ModerationScores:
        scores: dict[str, float] = {}
        evidence: dict[str, list[str]] = {}
        for category, entries in _COMPILED.items():
            remaining = 1.0
            found: list[str] = []
            repeats: dict[int, int] = {}
            for text in texts:
                for entry, match in _hits(text, entries):
                    seen = repeats.get(id(entry), 0)
                    if seen == _MAX_REPEATS:
                        continue
                    repeats[id(entry)] = seen + 1
                    negated = _negated(text, match.start())
                    weight = entry.weight * (_NEGATED_FACTOR if negated else 1.0)
                    remaining *= 1 - (weight if seen == 0 else weight / 2)
                    phrase = " ".join(match.group(0).lower().split())
                    found.append(f"{phrase} (negated)" if negated else phrase)
            scores[category] = round(1 - remaining, 4)
            evidence[category] = list(dict.fromkeys(found))
        return ModerationScores(scores=scores, evidence=evidence)


def _hits(text: str, entries: list[_Entry]) -> list[tuple[_Entry, re.Match[str]]]:
    """Matches of each entry, skipping words a stronger (earlier-listed) entry already matched,
    so "kill you" is not also counted as "kill"."""
    covered: list[tuple[int, int]] = []
    hits = []
    for entry in entries:
        spans = []
        for match in entry.pattern.finditer(text):
            if not any(start <= match.start() and match.end() <= end for start, end in covered):
                hits.append((entry, match))
                spans.append(match.span())
        covered += spans
    return hits


def _negated(text: str, start: int) -> bool:
    before = _TOKEN.findall(text[max(0, start - 60) : start].lower())
    return bool(_NEGATORS & set(before[-_NEGATION_WINDOW:]))
