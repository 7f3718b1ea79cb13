"""How deep a line is indented, in columns (tabs count TAB_WIDTH): what the scope and copy filters compare."""

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
