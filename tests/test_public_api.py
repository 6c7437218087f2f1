"""Each public module declares a small explicit API (``__all__``) and keeps to it."""

import importlib
import inspect

import pytest

MODULES = [
    "linkage", "linkage.errors", "linkage.schema", "linkage.format", "linkage.keys",
    "linkage.encode", "linkage.bloom.encoder", "linkage.bloom.hashing", "linkage.tokens",
    "linkage.normalize", "linkage.matching",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_explicit_and_complete(name):
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__), "duplicates in __all__"
    for attr in exported:
        assert hasattr(module, attr), f"{name}.__all__ names missing {attr}"
    defined_here = {
        n for n, obj in vars(module).items()
        if not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == name
    }
    assert defined_here <= exported, f"{name}: public but not in __all__: {defined_here - exported}"


def test_exception_tree_subclasses_builtins():
    from linkage import errors

    for cls_name in errors.__all__:
        cls = getattr(errors, cls_name)
        assert issubclass(cls, errors.LinkageError)
        if cls is not errors.LinkageError:
            assert issubclass(cls, (ValueError, RuntimeError)), cls
