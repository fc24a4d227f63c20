"""A text picture of an array's sharding: which device holds which block.

``visualize_sharding(shape, sharding)`` cuts a 1-d or 2-d array into the blocks that
``sharding.devices_indices_map(shape)`` names and draws them as a grid, each block labelled with
its devices (``CPU 0,4``). Block sizes follow JAX's proportions, so the pictures match
``jax.debug.visualize_sharding`` cell for cell. With ``rich`` installed (an optional dependency)
the grid is a rich table (coloured on a colour terminal); without it the same grid is drawn
with box-drawing characters, so the picture never needs anything beyond jaxel's own
dependencies.
"""
from __future__ import annotations

import colorsys
import math
import os
import sys

# Cells are about 2.5 characters wide per line of height, so square blocks look square.
_CHARS_PER_LINE = 2.5


# ---- the grid -------------------------------------------------------------------------------
class _Cell:
    """One block: its label and its padding (top, right, bottom, left) around the label."""

    def __init__(self, label, pad):
        self.label = label
        self.pad = list(pad)


def _as_sharding(sharding):
    """A jaxel ``Sharding`` for ``sharding`` (also accepts the runtime's single-device ones)."""
    # Imported here so that ``import jaxel`` does not load jaxel.sharding (issue 14 decides
    # when that becomes a top-level attribute).
    from jaxel.sharding.shardings import Sharding, SingleDeviceSharding
    if isinstance(sharding, Sharding):
        return sharding
    devices = getattr(sharding, "_device_assignment", None)
    if devices is not None and len(devices) == 1:
        return SingleDeviceSharding(devices[0])
    raise TypeError(f"visualize_sharding: expected a jaxel.sharding.Sharding, got {sharding!r}.")


def _blocks(shape, sharding):
    """``{(row, col): (height fraction or None, width fraction, device ids)}``.

    1-d arrays are one row of blocks (height None: one line tall)."""
    out = {}
    for device, index in sharding.devices_indices_map(shape).items():
        starts, sizes = [], []
        for n, s in zip(shape, index):
            if isinstance(s, int):
                s = slice(s, s + 1)
            start, stop, _ = s.indices(n)
            starts.append(start)
            sizes.append(stop - start)
        # Blocks are even (shard_shape checked it), so a block's place is start // size.
        pos = tuple(a // b for a, b in zip(starts, sizes))
        if len(shape) == 1:
            key, frac = (0, pos[0]), (None, sizes[0] / shape[0])
        else:
            key, frac = pos, (sizes[0] / shape[0], sizes[1] / shape[1])
        entry = out.setdefault(key, [frac, set()])
        entry[1].add(device.id)
    return {k: (f[0], f[1], ids) for k, (f, ids) in out.items()}


def _layout(shape, sharding, *, colored, scale, min_width, max_width):
    """The grid of cells (``rows`` lists of ``_Cell``) and its column widths."""
    shape = tuple(int(n) for n in shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"visualize_sharding only draws arrays of rank 1 or 2; got shape "
                         f"{shape} of rank {len(shape)} (JAX draws the same ranks).")
    if 0 in shape:
        raise ValueError(f"visualize_sharding: cannot draw an empty array of shape {shape}.")
    sharding.shard_shape(shape)   # a clear error when a dimension does not split evenly
    blocks = _blocks(shape, sharding)
    nrows = 1 + max(r for r, _ in blocks)
    ncols = 1 + max(c for _, c in blocks)
    kind = next(iter(sharding.device_set)).platform.upper()
    base_height = int(10 * scale)
    base_width = int(base_height * (shape[1] if len(shape) == 2 else 1) / shape[0])
    rows = []
    for i in range(nrows):
        row = []
        for j in range(ncols):
            h, w, ids = blocks[i, j]
            label = f"{kind} " + ",".join(str(d) for d in sorted(ids))
            width = min(max(int(w * base_width * _CHARS_PER_LINE), min_width), max_width)
            height = 1 if h is None else int(h * base_height)
            # The label sits in the middle; the "- 2" leaves room for the borders.
            left, extra = divmod(width - len(label) - 2, 2)
            top, extra_v = divmod(height - 2, 2)
            pad = [top, left + extra, top + extra_v, left]
            if colored:     # no borders: a coloured margin instead
                pad = [p + 1 for p in pad]
            row.append(_Cell(label, [max(p, 0) for p in pad]))
        rows.append(row)
    widths = [max(len(r[j].label) + r[j].pad[1] + r[j].pad[3] for r in rows)
              for j in range(ncols)]
    _fit(rows, widths, max_width - (0 if colored else ncols + 1))
    return rows, widths


def _fit(rows, widths, budget):
    """Narrow the widest-padded columns until the grid fits ``budget`` characters.

    JAX lets rich squeeze an over-wide table, which wraps or drops the labels; taking the
    room from the padding keeps every label whole."""
    if sum(widths) <= budget:
        return
    need = [max(len(r[j].label) for r in rows) for j in range(len(widths))]
    while sum(widths) > budget:
        j = max(range(len(widths)), key=lambda k: widths[k] - need[k])
        if widths[j] <= need[j]:
            break           # only labels left: the picture is wider than max_width
        widths[j] -= 1
    for row in rows:
        for j, cell in enumerate(row):
            slack = widths[j] - len(cell.label)
            cell.pad[3], cell.pad[1] = slack // 2, slack - slack // 2


# ---- colours --------------------------------------------------------------------------------
def _default_color_map(v):
    """Muted colours around the hue circle (used when neither color_map nor matplotlib is
    given)."""
    r, g, b = colorsys.hsv_to_rgb(0.9 * v, 0.55, 0.75)
    return r, g, b, 1.0


def _colors(color_map, n):
    """``n`` hex colours from ``color_map`` (values in [0, 1]), neighbours far apart."""
    if color_map is None:
        try:
            import matplotlib as mpl
            color_map = mpl.colormaps["tab20b"]
        except ImportError:
            color_map = _default_color_map
    # Visit the values with a stride coprime to n, so adjacent blocks get distant colours.
    step = n // 2 + 1
    while math.gcd(step, n) != 1:
        step += 1
    out = []
    for k in range(n):
        v = ((k * step) % n) / max(n - 1, 1)
        rgb = color_map(v)
        if isinstance(rgb, str):
            out.append(rgb)
        else:
            out.append("#" + "".join(f"{int(c * 255):02X}" for c in tuple(rgb)[:3]))
    return out


def _text_color(bg):
    """Black on light backgrounds, white on dark ones (for hex colours)."""
    if not (isinstance(bg, str) and bg.startswith("#") and len(bg) == 7):
        return None
    r, g, b = (int(bg[k:k + 2], 16) for k in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 186 else "#FFFFFF"


# ---- drawing --------------------------------------------------------------------------------
def _cell_lines(cell, width, height):
    """The cell's text lines, ``width`` wide and ``height`` tall (label centred)."""
    top, right, bottom, left = cell.pad
    inner = width - left - right
    a = max(inner - len(cell.label), 0)
    text = " " * left + " " * (a // 2) + cell.label + " " * (a - a // 2) + " " * right
    lines = [" " * width] * top + [text] + [" " * width] * bottom
    return lines + [" " * width] * (height - len(lines))


def _plain_text(rows, widths, colors=None):
    """The grid as box-drawing text, or as ANSI-coloured blocks when ``colors`` is given."""
    out = []

    def rule(left, mid, right):
        out.append(left + mid.join("─" * w for w in widths) + right)

    if colors is None:
        rule("┌", "┬", "┐")
    k = 0
    for i, row in enumerate(rows):
        height = max(c.pad[0] + 1 + c.pad[2] for c in row)
        cells = [_cell_lines(c, w, height) for c, w in zip(row, widths)]
        if colors is not None:
            styles = []
            for _ in row:
                bg, fg = colors[k], _text_color(colors[k]) or "#000000"
                k += 1
                styles.append(_ansi(bg, fg))
            for line in zip(*cells):
                out.append("".join(s + t + "\x1b[0m" for s, t in zip(styles, line)))
            continue
        if i:
            rule("├", "┼", "┤")
        for line in zip(*cells):
            out.append("│" + "│".join(line) + "│")
    if colors is None:
        rule("└", "┴", "┘")
    return "\n".join(out) + "\n"


def _ansi(bg, fg):
    """24-bit ANSI codes for a hex background and text colour ("" for other colour names)."""
    if _text_color(bg) is None:
        return ""

    def rgb(h):
        return ";".join(str(int(h[k:k + 2], 16)) for k in (1, 3, 5))
    return f"\x1b[48;2;{rgb(bg)}m\x1b[38;2;{rgb(fg)}m"


def _import_rich():
    """The rich modules the picture needs, or None when rich is not installed."""
    try:
        import rich.align
        import rich.box
        import rich.console
        import rich.padding
        import rich.style
        import rich.table
    except ImportError:
        return None
    return rich


def _draw_rich(rich, console, rows, widths, colors):
    table = rich.table.Table(show_header=False, show_lines=colors is None, padding=0,
                             highlight=colors is None, pad_edge=False,
                             box=rich.box.SQUARE if colors is None else None)
    for j, w in enumerate(widths):
        table.add_column(width=w, no_wrap=True)
    k = 0
    for row in rows:
        cells = []
        for cell in row:
            style = rich.style.Style()
            if colors is not None:
                style = rich.style.Style(bgcolor=colors[k], color=_text_color(colors[k]))
                k += 1
            cells.append(rich.padding.Padding(
                rich.align.Align(cell.label, "center", vertical="middle"), tuple(cell.pad),
                style=style))
        table.add_row(*cells)
    console.print(table, end="\n\n")


def visualize_sharding(shape, sharding, *, use_color: bool = True, scale: float = 1.0,
                       min_width: int = 9, max_width: int = 80, color_map=None):
    """Print a picture of how ``sharding`` lays out an array of ``shape`` over devices.

    Each block of the array is a cell labelled with the devices that hold it (``CPU 0,4``:
    devices 0 and 4 hold copies of that block). 1-d arrays are drawn as one row; other ranks
    than 1 and 2 raise ``ValueError``, as in JAX.

    Args:
      shape: the global shape of the array (rank 1 or 2).
      sharding: any ``jaxel.sharding.Sharding`` (``NamedSharding``, ``SingleDeviceSharding``,
        or one XLA chose).
      use_color: colour the blocks when the terminal shows colour (rich's, or ANSI codes
        without rich); otherwise blocks are drawn with borders.
      scale: grows or shrinks the picture (10 lines tall at 1.0 for a square array).
      min_width, max_width: bounds on a block's width, in characters; the whole picture is
        kept within ``max_width`` while the labels fit.
      color_map: a function from [0, 1] to an RGB(A) tuple of floats in [0, 1] (a matplotlib
        colormap works); default matplotlib's ``tab20b`` if installed, else a built-in one.

    Example::

        >>> mesh = jaxel.make_mesh((2, 2), ('x', 'y'))
        >>> jaxel.debug.visualize_sharding((4, 4), NamedSharding(mesh, P('x', 'y')),
        ...                                use_color=False)
    """
    sharding = _as_sharding(sharding)
    rich = _import_rich()
    if rich is not None:
        console = rich.console.Console(width=max_width)
        colored = use_color and console.color_system is not None
    else:
        colored = (use_color and hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
                   and "NO_COLOR" not in os.environ)
    rows, widths = _layout(shape, sharding, colored=colored, scale=scale,
                           min_width=min_width, max_width=max_width)
    colors = _colors(color_map, len(rows) * len(rows[0])) if colored else None
    if rich is not None:
        _draw_rich(rich, console, rows, widths, colors)
    else:
        sys.stdout.write(_plain_text(rows, widths, colors))


def inspect_array_sharding(value, *, callback):
    """Call ``callback(sharding)`` for each array in the pytree ``value``.

    Outside transformations the callback runs at once with each Array's ``.sharding``. Inside
    ``jit`` it runs when the program is compiled, with the sharding XLA's partitioner chose for
    that value (a ``NamedSharding`` over the program's mesh when a spec expresses it); a cached
    program does not call it again. In a one-device program it runs while lowering, with the
    default device's ``SingleDeviceSharding``.

    Example::

        >>> @jaxel.jit
        ... def f(x):
        ...     y = jnp.sin(x)
        ...     jaxel.debug.inspect_array_sharding(y, callback=print)
        ...     return y * 2
    """
    from jaxel.debug.inspect_sharding import inspect_sharding_p
    from jaxel.tracing.core import Tracer
    from jaxel.tree_util import tree_leaves
    for leaf in tree_leaves(value):
        if isinstance(leaf, Tracer):
            inspect_sharding_p.bind(leaf, callback=callback)
            continue
        sharding = getattr(leaf, "sharding", None)
        if sharding is None:
            raise TypeError(f"inspect_array_sharding expects Arrays, got "
                            f"{type(leaf).__name__}; place it with jaxel.device_put first.")
        callback(_as_sharding(sharding))


def visualize_array_sharding(arr, *, use_color: bool = True, scale: float = 1.0,
                             min_width: int = 9, max_width: int = 80, color_map=None):
    """Print a picture of how the Array ``arr`` is laid out over devices (see
    ``visualize_sharding``).

    Example::

        >>> x = jaxel.device_put(jnp.zeros((8, 8)), NamedSharding(mesh, P('x', 'y')))
        >>> jaxel.debug.visualize_array_sharding(x)
    """
    def draw(sharding):
        visualize_sharding(arr.shape, sharding, use_color=use_color, scale=scale,
                           min_width=min_width, max_width=max_width, color_map=color_map)
    inspect_array_sharding(arr, callback=draw)
