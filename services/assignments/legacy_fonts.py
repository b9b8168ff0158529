"""Text typed for the legacy Vietnamese fonts (TCVN3/ABC ".VnTime", VNI "VNI-Times") back to Unicode.

Such text arrives as the Windows-1252 characters of the font's bytes ("Céng hßa", "Coäng hoøa"): from
a single-byte .txt, or from a .txt a word processor saved as Unicode with the old font still applied.
"""

import re
import string
import unicodedata

# TCVN3 (TCVN 5712:1993, ABC): one byte per letter; upper-case toned letters have no code (a capital
# line is typed in the ".VnTimeH" font with the lower-case codes), see _restore_capitals().
TCVN3 = dict(zip(
    "µ¸¶·¹" "¨»¾¼½Æ" "©ÇÊÈÉË" "®ÌÐÎÏÑ" "ªÒÕÓÔÖ" "×ÝØÜÞ" "ßãáâä" "«åèæçé" "¬êíëìî" "ïóñòô" "\xadõøö÷ù"
    "úýûüþ" "¡¢§£¤¥¦",
    "àáảãạ" "ăằắẳẵặ" "âầấẩẫậ" "đèéẻẽẹ" "êềếểễệ" "ìíỉĩị" "òóỏõọ" "ôồốổỗộ" "ơờớởỡợ" "ùúủũụ" "ưừứửữự"
    "ỳýỷỹỵ" "ĂÂĐÊÔƠƯ",
    strict=True,
))
_TCVN3_TABLE = str.maketrans("".join(TCVN3), "".join(TCVN3.values()))

# VNI: a base letter followed by a mark byte; i, ơ, ư and đ have bytes of their own.
_TONES = "\u0301\u0300\u0309\u0303\u0323"  # acute, grave, hook, tilde, dot below
_VNI_TONE = "ùøûõï"
_VNI_CIRCUMFLEX = "âáàåãä"  # without a tone, then with each tone
_VNI_BREVE = "êéèúüë"
_VNI_OWN = {"ô": "ơ", "ö": "ư", "ñ": "đ", "ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị"}


def _compose(base: str, *marks: str) -> str:
    return unicodedata.normalize("NFC", base + "".join(marks))


def _vni_table() -> dict[str, str]:
    """VNI sequence -> Unicode letter, lower and upper case (the base letter's case wins)."""
    lower: dict[str, str] = dict(_VNI_OWN)
    for base in "aeouy":
        for mark, tone in zip(_VNI_TONE, _TONES, strict=True):
            lower[base + mark] = _compose(base, tone)
    lower["yî"] = "ỵ"  # y takes its own dot below
    for base in "ôö":  # ơ and ư with a tone
        for mark, tone in zip(_VNI_TONE, _TONES, strict=True):
            lower[base + mark] = _compose(_VNI_OWN[base], tone)
    for base in "aeo":
        for mark, tone in zip(_VNI_CIRCUMFLEX, ("", *_TONES), strict=True):
            lower[base + mark] = _compose(base, "\u0302", tone)
    for mark, tone in zip(_VNI_BREVE, ("", *_TONES), strict=True):
        lower["a" + mark] = _compose("a", "\u0306", tone)
    table = {}
    for seq, letter in lower.items():
        base, mark = seq[0], seq[1:]
        table[seq] = letter
        table[base.upper() + mark.upper()] = letter.upper()
        if mark:
            table[base.upper() + mark] = letter.upper()
    return table


VNI = _vni_table()
_VNI_RE = re.compile("|".join(sorted(map(re.escape, VNI), key=len, reverse=True)))

_NUCLEI = (  # the vowel groups of Vietnamese syllables, without their tone
    "iêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu yêu "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê "
    "a ă â e ê i o ô ơ u ư y"
).split()
_SYLLABLE_RE = re.compile(
    f"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?(?:{'|'.join(_NUCLEI)})(?:ch|ng|nh|[cmnpt])?"
)
_EDGE = string.punctuation + "“”‘’…–—«»"
_LEGACY_MARK_RE = re.compile("[\xa1-\xff]")
SAMPLE = 200_000  # characters enough to tell the encodings apart


def from_tcvn3(text: str) -> str:
    """TCVN3 text (as its Windows-1252 characters) in Unicode, capital lines restored."""
    return _restore_capitals(text.translate(_TCVN3_TABLE))


def from_vni(text: str) -> str:
    """VNI text (as its Windows-1252 characters) in Unicode."""
    return _VNI_RE.sub(lambda m: VNI[m.group()], text)


def _is_syllable(word: str) -> bool:
    """True when `word` is spelled like one Vietnamese syllable (at most one tone mark)."""
    parts = unicodedata.normalize("NFD", word.lower())
    bare = "".join(c for c in parts if c not in _TONES)
    return len(parts) - len(bare) <= 1 and _SYLLABLE_RE.fullmatch(unicodedata.normalize("NFC", bare)) is not None


def _plausibility(text: str) -> tuple[int, int]:
    """How many of the words with a non-ASCII letter read as Vietnamese syllables, and how many do not."""
    good = bad = 0
    for token in text[:SAMPLE].split():
        word = token.strip(_EDGE)
        if word.isascii() or any(c.isdigit() for c in word):
            continue
        if _is_syllable(word):
            good += 1
        else:
            bad += 1
    return good, bad


def score(text: str) -> int:
    """Vietnamese-looking words less the others: the higher, the likelier the right decoding."""
    good, bad = _plausibility(text)
    return good - bad


def convert_legacy(text: str) -> str:
    """`text` in Unicode if it was typed for TCVN3 or VNI; unchanged otherwise (Unicode, English...)."""
    if not _LEGACY_MARK_RE.search(text[:SAMPLE]):
        return text
    good, bad = _plausibility(text)
    if bad <= (good + bad) * 0.3:  # mostly Vietnamese words already: a stray symbol, not a legacy font
        return text
    best, best_score = text, good - bad
    for candidate in (from_tcvn3(text), from_vni(text)):
        if (points := score(candidate)) > best_score:
            best, best_score = candidate, points
    return best


def _restore_capitals(text: str) -> str:
    """Upper-case the lower-case toned letters of the lines typed in capitals (".VnTimeH")."""
    return "\n".join(_capital_line(line) for line in text.split("\n"))


def _capital_line(line: str) -> str:
    caps = lower = 0
    for token in line.split():
        word = token.strip(_EDGE)
        if not word or any(c.isdigit() or c == "/" for c in word):
            continue  # numbers and codes ("41-KH/ĐUK") say nothing about the line
        if any(c.isascii() and c.islower() for c in word):
            lower += 1
        elif sum(c.isupper() for c in word) >= 2:
            caps += 1
    return line.upper() if caps and not lower else line
