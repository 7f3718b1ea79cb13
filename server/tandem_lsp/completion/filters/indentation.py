"""Indentation helpers shared by the scope rules."""

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
