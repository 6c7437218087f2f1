"""The trust zones are enforced, not just documented."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_no_weak_hash_anywhere_in_the_package():
    """MD5 and SHA-1 must not be reachable from any code path, configured or not."""
    weak = {"md5", "sha1"}
    for path in [*ROOT.joinpath("linkage").rglob("*.py"), *ROOT.joinpath("service").rglob("*.py")]:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.lower() in weak:
                raise AssertionError(f"{path}: uses {node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value.lower() not in weak, f"{path}: mentions {node.value!r}"


def _cached_functions_with_parameters(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = {ast.unparse(d) for d in node.decorator_list}
            cached = any("cache" in n for n in names)
            if cached and (node.args.args or node.args.kwonlyargs or node.args.vararg):
                yield node.name


def test_no_cache_on_keyed_or_plaintext_values():
    """Caches may hold public tables (built by a function without arguments) but never
    anything computed from a key, a token or a plaintext value."""
    for sub in ("bloom", "keys.py", "encode.py", "normalize", "tokens.py", "privacy"):
        target = ROOT / "linkage" / sub
        files = target.rglob("*.py") if target.is_dir() else [target]
        for path in files:
            offenders = list(_cached_functions_with_parameters(ast.parse(path.read_text())))
            assert not offenders, f"{path}: cached functions with arguments: {offenders}"
