"""Whitespace in lines, as the scope and copy filters compare them.

How deep a line is indented, in columns (tabs count TAB_WIDTH), and whether two
lines are the same code written with other spacing (`a=b + c` is `a = b + c`).
"""

TAB_WIDTH = 4


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
