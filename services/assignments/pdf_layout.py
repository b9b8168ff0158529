"""A PDF page's text in reading order: the two columns of a header or signature table one after the
other, and lines the page wrapped joined back into their paragraphs.

Input is a page laid out with spaces (pypdf's `extract_text(extraction_mode="layout")`).
"""

import re

COLUMN_GAP = re.compile(r"\S( {5,})\S")  # two cells side by side; justified body text has no such gap
MARKER = re.compile(r"^(?:[IVXL]+\s*[.\-–/)]|\d+(?:\.\d+)*\s*[.)/]|[a-zđ]\)|[-–—+•·*●○▪■◦]|(?:Điều|PHẦN|Phần|Mục)\s)")
FULL_LINE = 0.8  # a line this close to the page's longest body line was wrapped by the page, not ended


def reading_order(text: str) -> list[str]:
    """The pages' lines: each two-column block as its left column then its right one (also across a
    page break), wrapped lines joined."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        if (gap := COLUMN_GAP.search(lines[index])) is None:
            out.append(lines[index].strip())
            index += 1
            continue
        index = _columns(lines, index, gap.end(1), out)
    return _reflow(out)


def _columns(lines: list[str], start: int, split: int, out: list[str]) -> int:
    """Read the two-column block starting at `start` (its right column begins near `split`) into
    `out`, left column first; return where the block ends."""
    left: list[str] = []
    right: list[str] = []
    index = start
    while index < len(lines):
        line = lines[index].rstrip()
        body = line.lstrip()
        indent = len(line) - len(body)
        if not body:
            left.append("")
            right.append("")
        elif (gap := COLUMN_GAP.search(line)) is not None and abs(gap.end(1) - split) <= 12:
            left.append(line[:gap.start(1) + 1].strip())
            right.append(line[gap.end(1):].strip())
        elif indent >= split - 3:
            right.append(body)
        elif len(line) < split - 2 and indent + len(body) / 2 < split * 0.75:
            left.append(body)
        else:
            break  # a line across both columns, or centred on the page: the block is over
        index += 1
    out += [*_cell_lines(left), "", *_cell_lines(right), ""]
    return index


def _cell_lines(lines: list[str]) -> list[str]:
    """A column's lines with those a narrow cell wrapped joined back ("- Các Ban Đảng và Đoàn thể trực" /
    "thuộc,"): a line going on in lower case, or the rest of a list item."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        wrapped = line[:1].islower() or (MARKER.match(previous) is not None and previous[:1] in "-–—+•"
                                         and previous[-1:] not in ".;:" and not MARKER.match(line))
        if line and previous and wrapped:
            out[-1] = f"{previous} {line}"
        else:
            out.append(line)
    return out


def _reflow(lines: list[str]) -> list[str]:
    """Join each line the page wrapped to the one before it: a full-width line followed by one
    that opens no list item."""
    widths = sorted(len(line) for line in lines if line)
    if not widths:
        return lines
    full = widths[int(len(widths) * 0.9)] * FULL_LINE
    out: list[str] = []
    last = 0  # the length of the last line as the page printed it
    for line in lines:
        if line and out and out[-1] and last >= full and not MARKER.match(line):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
        last = len(line)
    return out
