"""An extractive script: research facts read verbatim, framed by a hook and a call to action
in the creator's measured patterns, sized to the target duration at the creator's pace."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import (
    DURATION_TOLERANCE,
    SCENE_PAUSE_SECONDS,
    DnaProfile,
    ProjectSettings,
    Research,
    Scene,
    Script,
    duration_slack,
    max_facts,
    scene_seconds,
)
from video_pipeline.text.normalise import squash
from video_pipeline.text.scripts import scripts, written_in
from video_pipeline.text.words import keywords, stems, words

_SPOKEN_TITLE_CHARS, _SPOKEN_WORD_CHARS = 60, 20
_UNSPOKEN = frozenset({"Cc", "Cf", "So", "Sk"})
"""Controls, direction marks, emoji and other symbols: read out by name, if at all."""
_GENERIC_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_ZALGO = re.compile(f"([^{_GENERIC_MARKS}])[{_GENERIC_MARKS}]{{3,}}")
"""A character under three or more general combining marks: a tower, not accents (a
Vietnamese vowel carries two)."""
PACE_SLACK = 0.08
"""How far the script may speed up or slow down from the creator's pace to hit the duration;
well inside the pacing check's tolerance."""
_CLOSE_ENOUGH = 0.04
_FACT_ID = re.compile(r"\bF\d+\b")
_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")
_NUMBER_PHRASE = re.compile(
    r"\d[\d,.]*(?:\s+(?:to|and|or)\s+\d[\d,.]*)?(?:\s+[A-Za-z°%][\w°%'-]*){1,2}"
)


@dataclass(frozen=True)
class _Line:
    """A candidate body scene: one fact, or the summary as a recap of several facts."""

    narration: str
    fact_ids: tuple[str, ...]
    priority: float
    order: int
    section: str

    @property
    def word_count(self) -> int:
        return len(words(self.narration))


@dataclass(frozen=True)
class _Plan:
    hook: str
    body: tuple[_Line, ...]
    cta: str

    @property
    def word_count(self) -> int:
        return len(words(self.hook)) + len(words(self.cta)) + sum(b.word_count for b in self.body)

    @property
    def pauses_seconds(self) -> float:
        """The pauses after hook, body scenes and call to action (either may be left out)."""
        return (len(self.body) + bool(self.hook) + bool(self.cta)) * SCENE_PAUSE_SECONDS


def extractive_script(
    title: str,
    brief: str,
    research: Research,
    dna: DnaProfile,
    settings: ProjectSettings,
    provider: str,
) -> Script:
    if not research.key_facts:
        raise PipelineInputError("The research has no key facts to build a script from.")
    target = settings.duration_seconds * dna.words_per_minute / 60
    lines = _fact_lines(research, brief)
    readable = scripts(" ".join(fact.text for fact in research.key_facts))
    frames = _frames(_speakable(title, readable), dna, settings.language)
    plan = _best_plan(frames, dna, lines, target)
    if plan.word_count < target * (1 - DURATION_TOLERANCE) * (1 - PACE_SLACK):
        recap = _recap_line(research, len(lines), settings.language)
        if recap is not None:
            plan = _best_plan(frames, dna, [*lines, recap], target)
    plan = _short_enough(plan, frames, dna, lines, target, settings.duration_seconds)
    pace = _pace(plan, settings.duration_seconds, dna.words_per_minute)
    _check_fits(plan, pace, settings.duration_seconds, len(research.key_facts))
    return _script(title, plan, pace, settings, provider)


def _short_enough(
    plan: _Plan,
    frames: tuple[list[str], list[str]],
    dna: DnaProfile,
    lines: list[_Line],
    target: float,
    duration: float,
) -> _Plan:
    """For a very short video the call to action, then the hook, give way to the facts;
    when leaving one out makes the script too short instead, say which lengths can work."""
    longest = duration + duration_slack(duration)
    wpm = dna.words_per_minute
    longer = plan
    for shorter in ((frames[0], [""]), ([""], [""])):
        if _spoken_seconds(plan, duration, wpm) <= longest:
            break
        longer, plan = plan, _best_plan(shorter, dna, lines, target)
    spoken, above = _spoken_seconds(plan, duration, wpm), _spoken_seconds(longer, duration, wpm)
    if plan is not longer and spoken < duration - duration_slack(duration):
        raise PipelineInputError(
            f"No script from this material fits a {duration:g} s video: its shortest fact "
            f"alone takes about {spoken:.0f} s, and with the opening or closing line about "
            f"{above:.0f} s. Set the duration to {math.ceil(above)} s or more."
        )
    return plan


def _spoken_seconds(plan: _Plan, duration: float, wpm: float) -> float:
    return plan.word_count / _pace(plan, duration, wpm) * 60 + plan.pauses_seconds


def _frames(spoken_title: str, dna: DnaProfile, language: str) -> tuple[list[str], list[str]]:
    """Hook and call-to-action variants. The templates are English; a video in another
    language opens with its title and closes with that language's "follow for more" (or the
    title again), so that everything it says is in the project's language. A title with
    nothing the voice can say leaves a video in another language without an opening."""
    if language == "en":
        return _hooks(spoken_title, dna), _ctas(dna)
    return [spoken_title], [_FOLLOW_FOR_MORE.get(language, spoken_title)]


def _fact_lines(research: Research, brief: str) -> list[_Line]:
    """Facts in outline order; priority favours summary facts, the brief and concrete numbers."""
    order: list[str] = []
    sections: dict[str, str] = {}
    for entry in research.outline:
        section = _FACT_ID.sub("", entry).strip(" ()[],:-") or entry
        for fact_id in _FACT_ID.findall(entry):
            if fact_id not in order:
                order.append(fact_id)
                sections[fact_id] = section
    order += [fact.id for fact in research.key_facts if fact.id not in order]
    summary, brief_stems = squash(research.summary), stems(brief)
    lines = []
    for position, fact_id in enumerate(order):
        try:
            fact = research.fact(fact_id)
        except KeyError:
            continue
        text = squash(fact.text)
        overlap = len(stems(text) & brief_stems) / max(1, min(6, len(brief_stems)))
        priority = (
            (2.0 if text in summary else 0.0)
            + overlap
            + (0.3 if any(ch.isdigit() for ch in text) else 0.0)
            + 0.2 / (1 + position)
        )
        lines.append(_Line(text, (fact.id,), priority, position, sections.get(fact_id, "")))
    return lines


def _recap_line(research: Research, order: int, language: str) -> _Line | None:
    """The summary read as a recap, when every one of its sentences is a listed fact (in
    English, the only language its "To recap:" is written in)."""
    if language != "en":
        return None
    facts = [f for f in research.key_facts if squash(f.text) in squash(research.summary)]
    covered = sum(len(words(f.text)) for f in facts)
    if not facts or covered < 0.8 * len(words(research.summary)):
        return None
    narration = f"To recap: {squash(research.summary)}"
    return _Line(narration, tuple(f.id for f in facts), 0.0, order, "")


def _best_plan(
    frames: tuple[list[str], list[str]], dna: DnaProfile, lines: list[_Line], target: float
) -> _Plan:
    """Pick hook, call to action and a subset of lines whose length is nearest the target;
    among plans within a few percent, the one with the most important facts wins."""
    best: tuple[float, float] | None = None
    chosen: tuple[str, int, str] | None = None
    subsets = _Subsets(lines)
    hooks, ctas = frames
    for hook_template in hooks:
        for cta in ctas:
            for length, (priority, count, facts) in subsets.best.items():
                hook = hook_template.replace("{n}", str(facts))
                pauses = (count + 2) * SCENE_PAUSE_SECONDS * dna.words_per_minute / 60
                total = len(words(hook)) + len(words(cta)) + length + pauses
                miss = abs(total - target) / target
                key = (0.0 if miss <= _CLOSE_ENOUGH else miss, -priority)
                if best is None or key < best:
                    best, chosen = key, (hook, length, cta)
    assert chosen is not None  # lines is never empty
    hook, length, cta = chosen
    return _Plan(hook, tuple(sorted(subsets.subset(length), key=lambda s: s.order)), cta)


class _Subsets:
    """For every reachable total word count, the non-empty subset of lines with the highest
    priority, as (priority, lines, single facts).

    A knapsack over word counts: each line keeps the lengths it improved and the length
    before it, so that only the subset chosen in the end is read back; a long video's
    hundred facts cost a fraction of a second."""

    def __init__(self, lines: list[_Line]) -> None:
        self.lines = lines
        self.best: dict[int, tuple[float, int, int]] = {}
        self._chosen: list[dict[int, int]] = []
        for line in lines:
            single = int(len(line.fact_ids) == 1)
            improved: dict[int, tuple[tuple[float, int, int], int]] = {}
            candidates = [(line.word_count, (line.priority, 1, single), -1)] + [
                (length + line.word_count, (p + line.priority, n + 1, f + single), length)
                for length, (p, n, f) in self.best.items()
            ]
            for length, entry, before in candidates:
                known = improved[length][0][0] if length in improved else -math.inf
                if entry[0] > max(self.best.get(length, (-math.inf, 0, 0))[0], known):
                    improved[length] = (entry, before)
            for length, (entry, _) in improved.items():
                self.best[length] = entry
            self._chosen.append({length: before for length, (_, before) in improved.items()})

    def subset(self, length: int) -> tuple[_Line, ...]:
        picked: list[_Line] = []
        index = len(self.lines) - 1
        while length >= 0:
            while length not in self._chosen[index]:
                index -= 1
            picked.append(self.lines[index])
            length, index = self._chosen[index][length], index - 1
        return tuple(reversed(picked))


def _pace(plan: _Plan, duration: float, wpm: float) -> float:
    exact = plan.word_count * 60 / max(1.0, duration - plan.pauses_seconds)
    return min(wpm * (1 + PACE_SLACK), max(wpm * (1 - PACE_SLACK), exact))


def _check_fits(plan: _Plan, pace: float, duration: float, fact_count: int) -> None:
    spoken = plan.word_count / pace * 60 + plan.pauses_seconds
    if spoken < duration - duration_slack(duration):
        most = f"set the duration to at most {max(5, int(spoken))} s"
        advice = (
            f"Research keeps at most {max_facts(duration)} key facts, so {most}."
            if fact_count >= max_facts(duration)
            else f"Add source material with more concrete facts, or {most}."
        )
        raise PipelineInputError(
            f"The material is too short for a {duration:g} s video: its {fact_count} key facts "
            f"give about {spoken:.0f} s of narration at {pace:.0f} words/min. {advice}"
        )
    if spoken > duration + duration_slack(duration):
        raise PipelineInputError(
            f"A {duration:g} s video is too short for even the shortest fact: it takes about "
            f"{spoken:.0f} s at {pace:.0f} words/min. Set the duration to at least "
            f"{int(spoken) + 1} s, or add material with shorter sentences."
        )


def _script(
    title: str, plan: _Plan, pace: float, settings: ProjectSettings, provider: str
) -> Script:
    def seconds(text: str) -> float:
        return scene_seconds(len(words(text)), pace)

    scenes = []
    if plan.hook:
        scenes.append(
            Scene(
                index=0,
                kind="hook",
                narration=plan.hook,
                on_screen_text=_short(title, 7),
                visual_description=_card(_short(title, 7), settings, "opening card with the title"),
                duration_seconds=seconds(plan.hook),
            )
        )
    for line in plan.body:
        label = _label(line)
        scenes.append(
            Scene(
                index=len(scenes),
                kind="body",
                narration=line.narration,
                on_screen_text=label,
                visual_description=_card(label, settings, f"section “{line.section or title}”"),
                duration_seconds=seconds(line.narration),
                fact_ids=list(line.fact_ids),
            )
        )
    if plan.cta:
        cta_label = _short(plan.cta, 6)
        scenes.append(
            Scene(
                index=len(scenes),
                kind="cta",
                narration=plan.cta,
                on_screen_text=cta_label,
                visual_description=_card(cta_label, settings, "closing card"),
                duration_seconds=seconds(plan.cta),
            )
        )
    return Script(
        title=title,
        hook=plan.hook,
        scenes=scenes,
        call_to_action=plan.cta,
        words_per_minute=round(pace, 1),
        provider=provider,
    )


def _hooks(spoken_title: str, dna: DnaProfile) -> list[str]:
    """Hook templates (shortest first) in the creator's first recognised opening pattern.

    They frame the subject and make no claim of their own; `{n}` is the number of facts.
    """
    subject = _subject(spoken_title)
    templates = {
        "imperative": [
            f"Stop for a second and look at {subject}.",
            f"Stop scrolling for a moment: let's look at {subject}.",
        ],
        "question": [
            f"What do you know about {subject}?",
            f"Quick question: what do you really know about {subject}? Let's find out.",
        ],
        "you-address": [
            f"Here's what you should know about {subject}.",
            f"If you have a minute, here's what you should know about {subject}.",
        ],
        "number": [
            f"{{n}} facts about {subject}.",
            f"Here are {{n}} facts about {subject}, straight from the sources.",
        ],
        "statement": [
            f"This is {subject}.",
            f"Let's look at {subject}, one fact at a time.",
        ],
    }
    for pattern in dna.hook_patterns:
        label = pattern.split(":")[0].strip().lower()
        if label in templates:
            short, long = templates[label]
            return [short, f"{short} Let's go.", long]
    short, long = templates["statement"]
    return [short, long]


_CTA_PHRASES = {
    "follow": ("Follow for more.", "Follow for more videos like this one."),
    "comment": (
        "Tell me in the comments.",
        "Which fact surprised you most? Tell me in the comments.",
    ),
    "subscribe": ("Subscribe for more.", "Subscribe for more videos like this one."),
    "share": ("Share this with a friend.", "Share this with someone who would enjoy it."),
    "like": ("Leave a like if you learned something.", "Leave a like if you learned something."),
    "save": ("Save this for later.", "Save this so you can come back to it."),
}


_FOLLOW_FOR_MORE = {
    "ar": "تابعنا لمزيد من المقاطع.",
    "cs": "Sledujte nás pro další videa.",
    "da": "Følg os for mere.",
    "de": "Folge uns für mehr.",
    "el": "Ακολουθήστε μας για περισσότερα.",
    "es": "Síguenos para ver más.",
    "fa": "برای دیدن بیشتر ما را دنبال کنید.",
    "fi": "Seuraa meitä, niin näet lisää.",
    "fr": "Abonne-toi pour en voir plus.",
    "he": "עקבו אחרינו לעוד.",
    "hi": "और देखने के लिए हमें फ़ॉलो करें।",
    "hu": "Kövess minket további videókért.",
    "id": "Ikuti kami untuk video lainnya.",
    "it": "Seguici per altri video.",
    "ja": "フォローして、続きをチェックしてね。",
    "ko": "더 많은 영상을 보려면 팔로우하세요.",
    "nl": "Volg ons voor meer.",
    "no": "Følg oss for mer.",
    "pl": "Obserwuj nas, aby zobaczyć więcej.",
    "pt": "Siga-nos para ver mais.",
    "ro": "Urmărește-ne pentru mai mult.",
    "ru": "Подписывайтесь, чтобы увидеть больше.",
    "sv": "Följ oss för mer.",
    "tr": "Daha fazlası için bizi takip edin.",
    "uk": "Підписуйтеся, щоб побачити більше.",
    "vi": "Theo dõi để xem thêm.",
    "zh": "关注我们，了解更多。",
}
"""The closing line of a video in a language other than English."""


def _ctas(dna: DnaProfile) -> list[str]:
    """Call-to-action variants in the creator's measured patterns (follow when none)."""
    verbs = [p.split(":")[0].strip().lower() for p in dna.cta_patterns]
    known = [v for v in verbs if v in _CTA_PHRASES] or ["follow"]
    first_short, first_long = _CTA_PHRASES[known[0]]
    variants = [first_short, first_long]
    if len(known) > 1:
        second_short = _CTA_PHRASES[known[1]][0]
        variants += [f"{first_short} {second_short}", f"{first_long} {second_short}"]
    return variants


def _speakable(title: str, readable: frozenset[str]) -> str:
    """The title as the narration may say it: no control or direction marks or emoji, no
    towers of combining marks (espeak reads each one out; accents and the vowel signs of
    Indic and Arabic script stay), no word in a script the material is not written in (a
    voice spells those out letter by letter), words of at most 20 characters, at most 8
    words and 60 characters, so that a long or odd title cannot make the opening outlast
    the video."""
    text = _ZALGO.sub(r"\1", unicodedata.normalize("NFD", squash(title)))
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c) not in _UNSPOKEN)
    spoken = [word for word in text.split() if written_in(word, readable)]
    text = " ".join(word[:_SPOKEN_WORD_CHARS] for word in spoken[:8])
    if len(text) > _SPOKEN_TITLE_CHARS:
        cut = text.rfind(" ", 0, _SPOKEN_TITLE_CHARS)
        text = text[: cut if cut > 0 else _SPOKEN_TITLE_CHARS]
    return text


def _subject(spoken_title: str) -> str:
    """The title as it reads mid-sentence ("How bees fly" -> "how bees fly"); "this" when
    there is nothing to say of it."""
    title = spoken_title.rstrip(".!?:;,- ") or "this"
    if len(title) > 1 and title[0].isupper() and title[1].islower():
        return title[0].lower() + title[1:]
    return title


def _label(line: _Line) -> str:
    """A short on-screen label for a fact: its year and key phrase, its number, or key phrase."""
    text = line.narration
    phrase = keywords(text, top=1, max_ngram=3)
    key = _as_written(phrase[0][0], text) if phrase else line.section
    year = _YEAR.search(text)
    if year:
        return _short(f"{year.group(0)} · {key}", 6)
    number = _NUMBER_PHRASE.search(text)
    if number:
        return _short(number.group(0).rstrip(".,;:"), 6)
    return _short(key, 6)


def _as_written(phrase: str, text: str) -> str:
    """A key phrase (lower-cased) as `text` spells it ("town of oakridge" -> "Town of
    Oakridge"), its first letter a capital."""
    pattern = r"\s+".join(re.escape(word) for word in phrase.split())
    found = re.search(pattern, text, re.IGNORECASE)
    written = found.group(0) if found else phrase
    return written[:1].upper() + written[1:]


def _short(text: str, max_words: int) -> str:
    """At most `max_words` words; Chinese and Japanese, which have no spaces, are cut after
    twice as many characters."""
    text = squash(text).rstrip(".!,;:。！，、")
    tokens = text.split()
    if len(tokens) == 1 and len(words(text)) > 2 * max_words:
        return text[: 2 * max_words] + "…"
    return " ".join(tokens) if len(tokens) <= max_words else " ".join(tokens[:max_words]) + "…"


def _card(label: str, settings: ProjectSettings, role: str) -> str:
    return (
        f"Title card, {settings.aspect} frame: “{label}” in large bold type on a plain "
        f"background; {role}."
    )
