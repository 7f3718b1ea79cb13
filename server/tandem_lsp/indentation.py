"""Whitespace in lines, for completion filters and for placing model answers.

A line's indentation as text, how deep it is in columns (tabs count
TAB_WIDTH), and whether two lines are the same code written with other spacing
(`a=b + c` is `a = b + c`).
"""

TAB_WIDTH = 4


def leading_whitespace(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def indent_width(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += TAB_WIDTH
        else:
            break
    return width


def without_spacing(line: str) -> str:
    return "".join(line.split())


def same_but_spacing(line: str, other: str) -> bool:
    return without_spacing(line) == without_spacing(other)
