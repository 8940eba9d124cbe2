"""`make goldens`: rewrite every tests/pages/<name>.txt from <name>.html; review the diff before committing."""

from __future__ import annotations

from tests.golden import golden_pages, render_golden


def main() -> None:
    for path in golden_pages():
        expected = path.with_suffix(".txt")
        output = render_golden(path)
        if not expected.exists() or expected.read_text(encoding="utf-8") != output:
            expected.write_text(output, encoding="utf-8")
            print(f"wrote {expected.name}")


if __name__ == "__main__":
    main()
