"""English. Prompt and query phrasing live with their parsers (the default path); this table
holds what the shared code needs: stopwords, sentence marks, words never used as tags."""

from __future__ import annotations

from bm25s.stopwords import STOPWORDS_EN_PLUS

from scenespark.language.rules.base import LanguageRules

# NLTK's English stopwords as bm25s ships them (the keyword tokenizer splits at apostrophes, so
# the "don't" forms are covered by their parts)
FUNCTION_WORDS = frozenset(w for w in STOPWORDS_EN_PLUS if "'" not in w)

# Never a tag on its own: function words, fillers, vague verbs/adverbs/prepositions and
# contraction remnants ("con", "near", "finally" were seen as tags).
TAG_STOPWORDS = FUNCTION_WORDS | frozenset(
    """
    also can't cannot could don't even ever every get gets got i'm isn't it's let's like much
    one really right that's there's they're we're would yeah yes you're okay oh um uh well going
    gonna know think thing things want see look say said go come make made way back lot little
    near nearly finally actually basically literally probably maybe perhaps quite rather almost
    always never often still already soon yet again just simply today tonight tomorrow yesterday
    now later first last next new old good great big small many lots kind sort something
    anything everything nothing someone anyone everyone thanks thank please sure via per among
    across along around behind beside besides beyond despite inside outside toward towards upon
    within without con pro etc ok hey hello hi let lets take takes took put puts give gives
    gave keep keeps use used using need needs start starts end ends two three four five six
    seven eight nine ten get getting got called call
    """.split()  # noqa: SIM905
)

CONTINUATION_WORDS = frozenset(
    """
    a an the of to in on at for with from by into onto about over under between through and or
    but nor because if than as that which who whose whom my your his her our their its this
    these those very is are was were be been being has have had will would can could should may
    might must shall there's it's i'm we're you're they're
    """.split()  # noqa: SIM905
)

# titles and short forms that are followed by more of the sentence
ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. prof. st. mt. sr. jr. vs. e.g. i.e. approx. fig. gen. col. capt. lt. sgt. rev. hon.".split()  # noqa: SIM905
)

GENERIC_WORDS = frozenset(
    {
        "important",
        "best",
        "key",
        "main",
        "top",
        "interesting",
        "memorable",
        "exciting",
        "great",
        "greatest",
        "good",
        "nice",
        "cool",
        "notable",
        "remarkable",
        "essential",
        "moments",
        "moment",
        "parts",
        "part",
        "bits",
        "bit",
        "highlights",
        "highlight",
        "clips",
        "clip",
        "scenes",
        "scene",
        "things",
        "stuff",
        "second",
        "seconds",
        "minute",
        "minutes",
        "min",
        "mins",
        "sec",
        "secs",
        "reel",
        "recap",
        "summary",
        "montage",
        "compilation",
        "supercut",
        "video",
        "videos",
    }
)

EN = LanguageRules(
    code="en",
    name="English",
    aliases=frozenset({"eng", "english"}),
    stopwords=FUNCTION_WORDS,
    tag_stopwords=TAG_STOPWORDS,
    continuation_words=CONTINUATION_WORDS,
    abbreviations=ABBREVIATIONS,
    generic_words=GENERIC_WORDS,
    phrases={
        "matched": "matched {modality} ({score:.2f})",
        "speech": "speech",
        "ocr": "ocr",
        "visual": "visual",
        "search": "search",
        "title_topic": "the video's title names the topic ({video})",
        "chosen_video": "from a chosen video (nothing in it matched the prompt)",
        "quote": '{head}: "{text}"',
        "reel_title": "{Topic} highlights",
        "reel_description": "{n} clips ({seconds:.0f} s) from {videos} video{plural} about {topic}",
    },
)
