"""The project's hard rules, checked on the source tree."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PKG = ROOT / "jaxel"


def _imports(path):
    text = path.read_text()
    return re.findall(r"^\s*(?:import|from)\s+([\w.]+)", text, re.M)


def test_no_file_imports_jax():
    offenders = [str(p.relative_to(ROOT)) for p in PKG.rglob("*.py")
                 if any(m == "jax" or m.startswith("jax.") for m in _imports(p))]
    assert not offenders, f"files importing the jax package: {offenders}"


def test_only_runtime_imports_jaxlib():
    offenders = [str(p.relative_to(ROOT)) for p in PKG.rglob("*.py")
                 if "runtime" not in p.relative_to(PKG).parts
                 and any(m == "jaxlib" or m.startswith("jaxlib.") for m in _imports(p))]
    assert not offenders, f"files outside jaxel/runtime importing jaxlib: {offenders}"


def test_no_jaxlib_front_end_pieces():
    bad = re.compile(r"_jax\.pytree|jax_jit|PjitFunction|_jax\.pjit")
    offenders = [str(p.relative_to(ROOT)) for p in PKG.rglob("*.py") if bad.search(p.read_text())]
    assert not offenders, f"files using jaxlib's front end: {offenders}"
