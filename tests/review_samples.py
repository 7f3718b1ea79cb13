"""A small buggy Python file shared by the review tests (two bugs: a skipped first value, a min kept as max)."""

BUGGY = """import math


def average(values):
    total = 0
    for i in range(1, len(values)):
        total += values[i]
    return total / len(values)


def find_max(items):
    best = items[0]
    for item in items:
        if item < best:
            best = item
    return best
"""
LINES = BUGGY.splitlines()
