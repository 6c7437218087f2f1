"""The README's two commands are the ones CI and users run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = text.split("```")
    shell = [b.split("\n", 1)[1].strip() for b in blocks[1::2] if b.startswith(("bash", "sh"))]
    return shell[:2]


def test_ci_runs_exactly_the_readme_test_command():
    _demo, tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == tests
    assert "pytest" in tests and "pip install" in tests


def test_demo_command_sets_up_and_runs_the_demo():
    demo, _ = _readme_commands()
    assert "pip install" in demo and "demo" in demo
