"""What every command's refusal looks like to a test: one line on stderr, ``error: ...``, the exit code asked for, and
no traceback."""

from __future__ import annotations


def one_line_error(result, *, code: int = 1) -> str:
    """The one ``error:`` line of a CliRunner ``result`` that exited ``code`` (fails otherwise)."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
