"""A post body with every kind of block the checkers should see (code, table, quote...)."""

BODY = """An opening paragraph with `inline code` and a [link](https://example.org/).

<!--more-->

> A quoted line.

```python
def hello(name: str) -> str:
    # A comment, a string and a number: every colour of the palette.
    return f"hi {name}" * 2
```

| left | centre | right |
|:-----|:------:|------:|
| 1    | 2      | 3     |

1. one
2. two[^n]

[^n]: A footnote.
"""
