"""Pytrees: nested containers whose non-container parts ("leaves") can be listed and put back.

``tree_flatten(tree)`` returns ``(leaves, treedef)``; ``tree_unflatten(treedef, leaves)`` rebuilds
a tree of the same shape.  Tuples, lists, dicts (keys sorted; keys that cannot be compared
raise ValueError, as in JAX), ``None`` (a node with no children),
namedtuples, ``collections.OrderedDict`` (insertion order) and ``collections.defaultdict`` (keys
sorted) are containers; so is any type registered with ``register_pytree_node`` and friends.
Every other object is a leaf.

How it is laid out, and why:

* A structure is a nested tuple, the *spec*: ``None`` for a leaf, and ``(type, aux, child_specs)``
  for a node, where ``aux`` is the node's static data (a dict's sorted keys, a custom node's aux
  data) and ``child_specs`` a tuple of specs.  Comparing and hashing two structures is then one
  tuple comparison or hash, done in C; ``PyTreeDef`` wraps a spec with its leaf count.
* ``tree_flatten`` sits on ``jit``'s dispatch path, so it is written for speed: type lookups are
  exact-type dict/set lookups; leaf types seen before are cached in a set, so "are all these
  children leaves?" is one C-level ``set.issuperset(map(type, children))``; a lone leaf, a flat
  tuple or list of leaves and a flat str-keyed dict of leaves return a cached ``PyTreeDef``.
* Tuples, lists and dicts are handled inline on the hot paths; every node type (built-in ones
  included) also has a ``_NodeKind`` entry used by the slower paths (key paths, ``is_leaf``,
  error reports), so those share one code path.
"""
import collections
import dataclasses
import functools
import itertools
import operator

__all__ = [
    "PyTreeDef", "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure",
    "tree_transpose", "tree_reduce", "tree_reduce_associative", "tree_all", "tree_broadcast",
    "treedef_is_leaf", "all_leaves", "treedef_children", "treedef_tuple", "build_tree",
    "tree_flatten_with_path", "tree_leaves_with_path", "tree_map_with_path",
    "SequenceKey", "DictKey", "GetAttrKey", "FlattenedIndexKey", "keystr",
    "register_pytree_node", "register_pytree_node_class", "register_pytree_with_keys",
    "register_pytree_with_keys_class", "register_dataclass", "register_static", "Partial",
    "flatten_one_level", "flatten_one_level_with_keys", "is_tree_node", "default_registry",
]

_NoneType = type(None)
_islice = itertools.islice


# --------------------------------------------------------------------------------------------
# Key entries: one step of a key path, as returned by ``tree_flatten_with_path``.
# --------------------------------------------------------------------------------------------

class SequenceKey:
    """The key of a tuple or list child: its position ``idx``. Prints as ``[0]``.

    Example::

        >>> tree_leaves_with_path((5, 6))[1][0]
        (SequenceKey(idx=1),)
    """
    __slots__ = ("idx",)
    __match_args__ = ("idx",)

    def __init__(self, idx):
        self.idx = idx

    def __str__(self):
        return f"[{self.idx!r}]"

    def __repr__(self):
        return f"SequenceKey(idx={self.idx!r})"

    def __eq__(self, other):
        return type(other) is SequenceKey and self.idx == other.idx

    def __hash__(self):
        return hash((SequenceKey, self.idx))

    def __reduce__(self):
        return SequenceKey, (self.idx,)


class DictKey:
    """The key of a dict child (dict, OrderedDict, defaultdict). Prints as ``['a']``.

    Example::

        >>> keystr((DictKey("w"),))
        "['w']"
    """
    __slots__ = ("key",)
    __match_args__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __str__(self):
        return f"[{self.key!r}]"

    def __repr__(self):
        return f"DictKey(key={self.key!r})"

    def __eq__(self, other):
        return type(other) is DictKey and self.key == other.key

    def __hash__(self):
        return hash((DictKey, self.key))

    def __reduce__(self):
        return DictKey, (self.key,)


class GetAttrKey:
    """The key of an attribute child (namedtuple fields, dataclass fields). Prints as ``.name``.

    Example::

        >>> keystr((GetAttrKey("weight"),))
        '.weight'
    """
    __slots__ = ("name",)
    __match_args__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return f".{self.name}"

    def __repr__(self):
        return f"GetAttrKey(name={self.name!r})"

    def __eq__(self, other):
        return type(other) is GetAttrKey and self.name == other.name

    def __hash__(self):
        return hash((GetAttrKey, self.name))

    def __reduce__(self):
        return GetAttrKey, (self.name,)


class FlattenedIndexKey:
    """The key of a child of a custom node registered without keys: its index among the
    node's flattened children. Prints as ``[<flat index 0>]``.

    Example::

        >>> str(FlattenedIndexKey(2))
        '[<flat index 2>]'
    """
    __slots__ = ("key",)
    __match_args__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __str__(self):
        return f"[<flat index {self.key}>]"

    def __repr__(self):
        return f"FlattenedIndexKey(key={self.key!r})"

    def __eq__(self, other):
        return type(other) is FlattenedIndexKey and self.key == other.key

    def __hash__(self):
        return hash((FlattenedIndexKey, self.key))

    def __reduce__(self):
        return FlattenedIndexKey, (self.key,)


KeyEntry = object  # any of the key classes above, or a user-defined key object
KeyPath = tuple    # a tuple of key entries

# Key objects are immutable, so the small ones are made once and shared.
_SEQ_KEYS = tuple(SequenceKey(i) for i in range(256))
_FLAT_KEYS = tuple(FlattenedIndexKey(i) for i in range(64))


def _seq_keys(n):
    return _SEQ_KEYS[:n] if n <= 256 else tuple(SequenceKey(i) for i in range(n))


def _flat_index_keys(n):
    return _FLAT_KEYS[:n] if n <= 64 else tuple(FlattenedIndexKey(i) for i in range(n))


def _simple_key_str(k):
    t = type(k)
    if t is SequenceKey:
        return str(k.idx)
    if t is DictKey or t is FlattenedIndexKey:
        return str(k.key)
    if t is GetAttrKey:
        return k.name
    return str(k)


def keystr(keys, *, simple=False, separator=""):
    """A readable string for a key path.

    Args:
      keys: a key path, a tuple of key entries (as from ``tree_flatten_with_path``).
      simple: if True, print each key bare (``0``, ``a``, ``name``) instead of in its
        indexing form (``[0]``, ``['a']``, ``.name``).
      separator: put between the keys.

    Returns:
      The string.

    Example::

        >>> keystr((DictKey("a"), SequenceKey(0), GetAttrKey("w")))
        "['a'][0].w"
        >>> keystr((DictKey("a"), SequenceKey(0)), simple=True, separator="/")
        'a/0'
    """
    if simple:
        return separator.join(map(_simple_key_str, keys))
    return separator.join(map(str, keys))


# --------------------------------------------------------------------------------------------
# The registry of node types.
# --------------------------------------------------------------------------------------------

class _NodeKind:
    """How one node type flattens and rebuilds.

    ``flatten(x) -> (children, aux)``; ``unflatten(aux, children) -> x``;
    ``keyed(x) -> (keys, children, aux)``, the children with their key entries.
    ``label`` is the name shown in a PyTreeDef's repr for custom nodes.
    """
    __slots__ = ("type", "flatten", "unflatten", "keyed", "label")

    def __init__(self, nodetype, flatten, unflatten, keyed, label):
        self.type = nodetype
        self.flatten = flatten
        self.unflatten = unflatten
        self.keyed = keyed
        self.label = label


_nodes = {}          # exact type -> _NodeKind, for every node type seen (registered or detected)
_registered = set()  # types registered explicitly (or built in): registering them again is an error
_BUILTIN_LEAVES = (int, float, complex, bool, str, bytes)
_leaf_types = set(_BUILTIN_LEAVES)   # types known to be leaves (a cache, refilled on demand)
_MAX_LEAF_TYPES = 4096               # a bound: classes made in a loop would otherwise pile up


def _classify(t):
    """Decide, once per type, whether ``t`` (not registered) is a namedtuple node or a leaf.

    Returns the new ``_NodeKind`` for a namedtuple type, None for a leaf type.
    """
    if issubclass(t, tuple) and hasattr(t, "_fields"):
        kind = _namedtuple_kind(t)
        _nodes[t] = kind
        return kind
    if len(_leaf_types) >= _MAX_LEAF_TYPES:
        _leaf_types.clear()
        _leaf_types.update(_BUILTIN_LEAVES)
    _leaf_types.add(t)
    return None


def _kind_of(t):
    """The ``_NodeKind`` of type ``t``, or None if its values are leaves."""
    kind = _nodes.get(t)
    if kind is None and t not in _leaf_types:
        kind = _classify(t)
    return kind


def _as_sequence(children):
    # Custom flatten functions may return any iterable (a generator, say); the rest of this
    # module needs to take its length and go over it more than once.
    t = type(children)
    return children if t is tuple or t is list else tuple(children)


def _namedtuple_kind(t):
    keys = tuple(GetAttrKey(f) for f in t._fields)
    return _NodeKind(t, lambda x: (x, None), lambda aux, children: t(*children),
                     lambda x: (keys, x, None), "namedtuple")


def _add_kind(kind):
    _nodes[kind.type] = kind
    _registered.add(kind.type)
    _leaf_types.discard(kind.type)


def _check_unregistered(nodetype):
    if not isinstance(nodetype, type):
        raise TypeError(f"pytree node types must be classes, got {nodetype!r}")
    if nodetype in _registered:
        raise ValueError(f"Duplicate pytree node type registration: {nodetype!r} is already "
                         "registered as a pytree node")


def _keyed_by_index(flatten):
    # Children of nodes registered without keys are named by their flat index.
    def keyed(x):
        children, aux = flatten(x)
        children = _as_sequence(children)
        return _flat_index_keys(len(children)), children, aux
    return keyed


def _keyed_from_pairs(flatten_with_keys):
    def keyed(x):
        pairs, aux = flatten_with_keys(x)
        pairs = _as_sequence(pairs)
        return tuple(k for k, _ in pairs), tuple(c for _, c in pairs), aux
    return keyed


def register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func=None):
    """Make ``nodetype`` a pytree node type.

    Args:
      nodetype: the class. Only values of exactly this class are nodes (not subclasses).
      flatten_func: ``x -> (children, aux_data)``: the children (an iterable of subtrees) and
        hashable static data needed to rebuild ``x``.
      unflatten_func: ``(aux_data, children) -> x``; ``children`` is a tuple.
      flatten_with_keys_func: optional ``x -> (((key, child), ...), aux_data)``, giving the key
        entries used in key paths. Without it, children are keyed by ``FlattenedIndexKey``.

    Returns:
      None.

    Raises:
      ValueError: ``nodetype`` is already registered.

    Example::

        >>> class Pair:
        ...     def __init__(self, a, b): self.a, self.b = a, b
        >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None),
        ...                      lambda aux, ch: Pair(*ch))
        >>> tree_leaves(Pair(1, (2, 3)))
        [1, 2, 3]
    """
    _check_unregistered(nodetype)
    if flatten_with_keys_func is None:
        keyed = _keyed_by_index(flatten_func)
    else:
        keyed = _keyed_from_pairs(flatten_with_keys_func)
    _add_kind(_NodeKind(nodetype, flatten_func, unflatten_func, keyed, nodetype.__name__))


def register_pytree_with_keys(nodetype, flatten_with_keys, unflatten_func, flatten_func=None):
    """Make ``nodetype`` a pytree node type whose children have key entries.

    Args:
      nodetype: the class.
      flatten_with_keys: ``x -> (((key, child), ...), aux_data)``.
      unflatten_func: ``(aux_data, children) -> x``.
      flatten_func: optional faster ``x -> (children, aux_data)`` for paths that do not need
        keys; by default it is derived from ``flatten_with_keys``.

    Returns:
      None.

    Example::

        >>> class Box:
        ...     def __init__(self, v): self.v = v
        >>> register_pytree_with_keys(Box, lambda b: (((GetAttrKey("v"), b.v),), None),
        ...                           lambda aux, ch: Box(*ch))
        >>> tree_leaves_with_path(Box(3))
        [((GetAttrKey(name='v'),), 3)]
    """
    if flatten_func is None:
        def flatten_func(x):
            pairs, aux = flatten_with_keys(x)
            return [c for _, c in pairs], aux
    register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_node_class(cls):
    """Class decorator: register ``cls`` using its ``tree_flatten`` method and its
    ``tree_unflatten(aux_data, children)`` classmethod.

    Args:
      cls: the class.

    Returns:
      ``cls``, so this can be used as a decorator.

    Example::

        >>> @register_pytree_node_class
        ... class Scale:
        ...     def __init__(self, w, name): self.w, self.name = w, name
        ...     def tree_flatten(self): return (self.w,), self.name
        ...     @classmethod
        ...     def tree_unflatten(cls, name, ch): return cls(ch[0], name)
    """
    register_pytree_node(cls, operator.methodcaller("tree_flatten"), cls.tree_unflatten)
    return cls


def register_pytree_with_keys_class(cls):
    """Class decorator: register ``cls`` using its ``tree_flatten_with_keys`` method (and its
    ``tree_flatten`` method if it has one) and its ``tree_unflatten`` classmethod.

    Args:
      cls: the class.

    Returns:
      ``cls``.

    Example::

        >>> @register_pytree_with_keys_class
        ... class Box:
        ...     def __init__(self, v): self.v = v
        ...     def tree_flatten_with_keys(self): return ((GetAttrKey("v"), self.v),), None
        ...     @classmethod
        ...     def tree_unflatten(cls, aux, ch): return cls(*ch)
    """
    flatten = (operator.methodcaller("tree_flatten") if hasattr(cls, "tree_flatten") else None)
    register_pytree_with_keys(cls, operator.methodcaller("tree_flatten_with_keys"),
                              cls.tree_unflatten, flatten)
    return cls


def _attr_tuple(names):
    """A function ``x -> tuple(getattr(x, n) for n in names)``, fast for any number of names."""
    if not names:
        return lambda x: ()
    if len(names) == 1:
        name = names[0]
        return lambda x: (getattr(x, name),)
    return operator.attrgetter(*names)


def register_dataclass(nodetype, data_fields=None, meta_fields=None, drop_fields=()):
    """Register a dataclass (or any class built from keyword arguments) as a pytree node.

    Data fields are children; meta fields are static aux data (they must be hashable).

    Args:
      nodetype: the class.
      data_fields: names of the fields that are children. With ``meta_fields``, both
        inferred when neither is given: ``nodetype`` must then be a dataclass, and its
        ``init`` fields are data unless declared ``field(metadata=dict(static=True))``.
      meta_fields: names of the static fields.
      drop_fields: ``init`` fields of a dataclass that are neither (they take their defaults
        when the node is rebuilt).

    Returns:
      ``nodetype``, so this can be used as a decorator.

    Raises:
      TypeError: only one of ``data_fields``/``meta_fields`` given, or neither for a
        non-dataclass.
      ValueError: for a dataclass, the fields given are not exactly its ``init`` fields
        minus ``drop_fields``.

    Example::

        >>> @register_dataclass
        ... @dataclasses.dataclass
        ... class Layer:
        ...     w: object
        ...     act: str = dataclasses.field(default="relu", metadata=dict(static=True))
        >>> tree_leaves(Layer(w=1.0))
        [1.0]
    """
    drop = set(drop_fields)
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(f"register_dataclass: {nodetype!r} is not a dataclass, so "
                            "data_fields and meta_fields must be given")
        data_fields, meta_fields = [], []
        for f in dataclasses.fields(nodetype):
            if f.init and f.name not in drop:
                (meta_fields if f.metadata.get("static", False) else data_fields).append(f.name)
    elif data_fields is None or meta_fields is None:
        raise TypeError("register_dataclass: give both data_fields and meta_fields, or "
                        "neither (to infer them from the dataclass)")
    else:
        data_fields, meta_fields = list(data_fields), list(meta_fields)
        if dataclasses.is_dataclass(nodetype):
            _check_dataclass_fields(nodetype, data_fields, meta_fields, drop)
    data_names, meta_names = tuple(data_fields), tuple(meta_fields)
    get_data, get_meta = _attr_tuple(data_names), _attr_tuple(meta_names)
    keys = tuple(GetAttrKey(n) for n in data_names)

    def unflatten(meta, data):
        kwargs = dict(zip(meta_names, meta))
        kwargs.update(zip(data_names, data))
        return nodetype(**kwargs)

    _check_unregistered(nodetype)
    _add_kind(_NodeKind(nodetype, lambda x: (get_data(x), get_meta(x)), unflatten,
                        lambda x: (keys, get_data(x), get_meta(x)), nodetype.__name__))
    return nodetype


def _check_dataclass_fields(nodetype, data_fields, meta_fields, drop):
    init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init} - drop
    given = set(data_fields) | set(meta_fields)
    missing, unexpected = init_fields - given, given - init_fields
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {sorted(missing)} (list them in drop_fields to leave "
                         "them out)")
        if unexpected:
            parts.append(f"unexpected {sorted(unexpected)}")
        raise ValueError(f"register_dataclass({nodetype.__name__}): data_fields and "
                         "meta_fields must name exactly the dataclass's init=True fields "
                         f"other than drop_fields; {'; '.join(parts)}")


def register_static(cls):
    """Register ``cls`` so its values are pytree nodes with no children: the whole value is
    static aux data (so it must be hashable), and never a leaf.

    Args:
      cls: the class.

    Returns:
      ``cls``, so this can be used as a decorator.

    Example::

        >>> @register_static
        ... class Config(str): pass
        >>> tree_leaves([Config("fast"), 1])
        [1]
    """
    register_pytree_node(cls, lambda x: ((), x), lambda aux, _: aux)
    return cls


# ---- built-in node types ----------------------------------------------------------------

def _sorted_keys(d):
    """A dict's keys as a sorted tuple; ValueError (as JAX) when they cannot be compared with
    each other (``{1: a, "b": c}``): a dict's leaf order is its sorted key order."""
    try:
        return tuple(sorted(d))
    except TypeError as e:
        kinds = sorted({type(k).__name__ for k in d})
        raise ValueError(
            "Comparator raised exception while sorting pytree dictionary keys: a dict's "
            f"leaves are ordered by its sorted keys, and these keys ({', '.join(kinds)}) "
            f"cannot be compared ({e}). Use keys of one comparable type, or an OrderedDict "
            "(which keeps insertion order).") from e


def _dict_flatten(d):
    keys = _sorted_keys(d)
    return [d[k] for k in keys], keys


def _dict_keyed(d):
    keys = _sorted_keys(d)
    return tuple(map(DictKey, keys)), [d[k] for k in keys], keys


def _defaultdict_flatten(d):
    keys = _sorted_keys(d)
    return [d[k] for k in keys], (d.default_factory, keys)


def _defaultdict_keyed(d):
    keys = _sorted_keys(d)
    return tuple(map(DictKey, keys)), [d[k] for k in keys], (d.default_factory, keys)


def _ordereddict_keyed(d):
    keys = tuple(d)
    return tuple(map(DictKey, keys)), list(d.values()), keys


def _register_builtins():
    seq_keyed = lambda x: (_seq_keys(len(x)), x, None)  # noqa: E731
    same = lambda x: (x, None)  # noqa: E731
    _add_kind(_NodeKind(tuple, same, lambda aux, ch: tuple(ch), seq_keyed, "tuple"))
    _add_kind(_NodeKind(list, same, lambda aux, ch: list(ch), seq_keyed, "list"))
    _add_kind(_NodeKind(dict, _dict_flatten, lambda keys, ch: dict(zip(keys, ch)),
                        _dict_keyed, "dict"))
    _add_kind(_NodeKind(_NoneType, lambda x: ((), None), lambda aux, ch: None,
                        lambda x: ((), (), None), "None"))
    _add_kind(_NodeKind(collections.OrderedDict, lambda d: (list(d.values()), tuple(d)),
                        lambda keys, ch: collections.OrderedDict(zip(keys, ch)),
                        _ordereddict_keyed, "OrderedDict"))
    _add_kind(_NodeKind(collections.defaultdict, _defaultdict_flatten,
                        lambda aux, ch: collections.defaultdict(aux[0], zip(aux[1], ch)),
                        _defaultdict_keyed, "defaultdict"))


_register_builtins()


# --------------------------------------------------------------------------------------------
# Specs: building, rebuilding, matching.
# --------------------------------------------------------------------------------------------

_NONE_SPEC = (_NoneType, None, ())


def _flatten_spec(x, leaves):
    """The spec of ``x``, appending its leaves to ``leaves``.

    The hot path (no ``is_leaf``). Written for speed in CPython 3.11: no comprehensions (each
    is a function call there), leaf children handled in the parent's loop rather than by a
    recursive call, and a one-pass C-level check for nodes whose children are all leaves.
    """
    t = type(x)
    if t is tuple or t is list:
        children = x
        aux = None
    elif t is dict:
        try:
            aux = tuple(sorted(x))
        except TypeError:
            aux = _sorted_keys(x)
        children = list(map(x.__getitem__, aux))
    elif t in _leaf_types:
        leaves.append(x)
        return None
    else:
        kind = _nodes.get(t) or _classify(t)
        if kind is None:
            leaves.append(x)
            return None
        if t is _NoneType:
            return _NONE_SPEC
        children, aux = kind.flatten(x)
        children = _as_sequence(children)
    if _leaf_types.issuperset(map(type, children)):
        # Every child is a leaf (the usual case at the bottom of a tree): no recursion.
        leaves.extend(children)
        return (t, aux, (None,) * len(children))
    specs = []
    for c in children:
        if type(c) in _leaf_types:
            leaves.append(c)
            specs.append(None)
        else:
            specs.append(_flatten_spec(c, leaves))
    return (t, aux, tuple(specs))


def _flatten_spec_is_leaf(x, leaves, is_leaf):
    """Like ``_flatten_spec`` but asks ``is_leaf`` about every subtree first."""
    if is_leaf(x):
        leaves.append(x)
        return None
    t = type(x)
    kind = _kind_of(t)
    if kind is None:
        leaves.append(x)
        return None
    children, aux = kind.flatten(x)
    children = _as_sequence(children)
    return (t, aux, tuple([_flatten_spec_is_leaf(c, leaves, is_leaf) for c in children]))


def _flatten_spec_with_path(x, path, out, is_leaf, is_leaf_takes_path):
    """The spec of ``x``, appending ``(key_path, leaf)`` pairs to ``out``."""
    if is_leaf is not None and (is_leaf(path, x) if is_leaf_takes_path else is_leaf(x)):
        out.append((path, x))
        return None
    t = type(x)
    kind = _kind_of(t)
    if kind is None:
        out.append((path, x))
        return None
    keys, children, aux = kind.keyed(x)
    return (t, aux, tuple([_flatten_spec_with_path(c, path + (k,), out, is_leaf,
                                                   is_leaf_takes_path)
                           for k, c in zip(keys, children)]))


def _make_node(t, aux, children):
    """Rebuild one node of type ``t`` from its aux data and (a fresh list of) children."""
    if t is tuple:
        return tuple(children)
    if t is list:
        return children
    if t is dict:
        return dict(zip(aux, children))
    return _nodes[t].unflatten(aux, tuple(children))


def _build(spec, it):
    """Rebuild the node ``spec`` (not a leaf) taking leaves from the iterator ``it``."""
    t, aux, kids = spec
    if any(kids):  # some child is a subtree (subtree specs are non-empty tuples, leaves None)
        children = []
        for k in kids:  # a loop, not a comprehension: cheaper in CPython 3.11
            children.append(next(it) if k is None else _build(k, it))
    else:
        children = list(_islice(it, len(kids)))
    if t is tuple:
        return tuple(children)
    if t is list:
        return children
    if t is dict:
        return dict(zip(aux, children))
    return _nodes[t].unflatten(aux, tuple(children))


_COMPILE_AFTER = 16        # uses of one PyTreeDef before its unflatten is compiled
_MAX_COMPILED_NODES = 2000  # larger structures keep the generic builder


def _compile_builder(spec):
    """A function ``leaves -> tree`` for the node ``spec``, generated as one expression.

    ``((a, {'w': b}), c)`` becomes ``lambda L: ((L[0], {k0: L[1]}), L[2])`` with ``k0``
    bound to the key object (never its repr, so any key works). Returns the generic
    ``_build`` route for structures too big or too deep for that.
    """
    names = {}
    leaf_index = itertools.count()

    def const(value):
        name = f"c{len(names)}"
        names[name] = value
        return name

    def expr(s):
        if s is None:
            return f"L[{next(leaf_index)}]"
        t, aux, kids = s
        parts = [expr(k) for k in kids]
        if t is tuple:
            return "(" + "".join(p + ", " for p in parts) + ")"
        if t is list:
            return "[" + ", ".join(parts) + "]"
        if t is dict:
            return "{" + ", ".join(f"{const(k)}: {p}" for k, p in zip(aux, parts)) + "}"
        if t is _NoneType:
            return "None"
        children = "(" + "".join(p + ", " for p in parts) + ")"
        return f"{const(_nodes[t].unflatten)}({const(aux)}, {children})"

    generic = lambda leaves: _build(spec, iter(leaves))  # noqa: E731
    if _count_nodes(spec) > _MAX_COMPILED_NODES:
        return generic
    try:
        return eval(compile(f"lambda L: {expr(spec)}", "<pytree builder>", "eval"), names)
    except (SyntaxError, RecursionError, MemoryError):  # nesting too deep for the parser
        return generic


def _rebuild(spec, it):
    """Rebuild any spec from the leaf iterator ``it``."""
    return next(it) if spec is None else _build(spec, it)


class _Mismatch(Exception):
    """Raised inside ``_flatten_up_to`` when a tree does not match a spec (message built later)."""


def _flatten_up_to(spec, x, out):
    """Append to ``out`` the subtrees of ``x`` sitting at the leaves of node ``spec``.

    Raises ``_Mismatch`` where ``x`` does not have the nodes of ``spec``.
    """
    t, aux, kids = spec
    if type(x) is not t:
        raise _Mismatch
    if t is tuple or t is list:
        if len(x) != len(kids):
            raise _Mismatch
        children = x
    elif t is dict:
        if len(x) != len(aux):
            raise _Mismatch
        try:
            children = [x[k] for k in aux]
        except KeyError:
            raise _Mismatch from None
    else:
        children, xaux = _nodes[t].flatten(x)
        children = _as_sequence(children)
        if len(children) != len(kids) or not (xaux is aux or xaux == aux):
            raise _Mismatch
    if any(kids):
        for k, c in zip(kids, children):
            if k is None:
                out.append(c)
            else:
                _flatten_up_to(k, c, out)
    else:
        out.extend(children)


def _count_leaves(spec):
    if spec is None:
        return 1
    return sum(_count_leaves(k) for k in spec[2])


def _count_nodes(spec):
    if spec is None:
        return 1
    return 1 + sum(_count_nodes(k) for k in spec[2])


def _spec_str(spec):
    """A spec written as JAX writes PyTreeDefs: ``(*, {'a': *})``."""
    if spec is None:
        return "*"
    t, aux, kids = spec
    parts = [_spec_str(k) for k in kids]
    if t is tuple:
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if t is list:
        return "[" + ", ".join(parts) + "]"
    if t is dict:
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(aux, parts)) + "}"
    if t is _NoneType:
        return "None"
    kind = _nodes.get(t)
    label = kind.label if kind is not None else t.__name__
    name = f"namedtuple[{t.__name__}]" if label == "namedtuple" else f"{label}[{aux}]"
    return f"CustomNode({name}, [{', '.join(parts)}])"


# ---- structure mismatch reports -------------------------------------------------------------

def _describe_node(t, aux, n):
    """Words for a node: 'a tuple of length 2', "a dict with keys ['a']", ..."""
    if t is tuple or t is list:
        return f"a {t.__name__} of length {n}"
    if t is dict:
        return f"a dict with keys {list(aux)!r}"
    if t is _NoneType:
        return "None"
    if t is collections.OrderedDict:
        return f"an OrderedDict with keys {list(aux)!r}"
    if t is collections.defaultdict:
        return f"a defaultdict({aux[0]!r}) with keys {list(aux[1])!r}"
    kind = _nodes.get(t)
    if kind is not None and kind.label == "namedtuple":
        return f"a namedtuple {t.__qualname__}"
    return f"a {t.__qualname__} node with {n} children and aux data {aux!r}"


def _describe_value(x):
    kind = _kind_of(type(x))
    if kind is None:
        return f"a leaf of type {type(x).__qualname__}"
    children, aux = kind.flatten(x)
    return _describe_node(type(x), aux, len(_as_sequence(children)))


def _find_mismatch(spec, x, path=()):
    """Where ``x`` first departs from ``spec``: ``(key_path, expected, got)`` or None."""
    if spec is None:
        return None
    t, aux, kids = spec
    expected = _describe_node(t, aux, len(kids))
    if type(x) is not t:
        return path, expected, _describe_value(x)
    keys, children, xaux = _nodes[t].keyed(x)
    if len(children) != len(kids) or not (xaux is aux or xaux == aux):
        return path, expected, _describe_node(t, xaux, len(children))
    for k, kid, c in zip(keys, kids, children):
        found = _find_mismatch(kid, c, path + (k,))
        if found is not None:
            return found
    return None


_NONE_HINT = ("\n(None is an empty pytree node, not a placeholder for a subtree. To treat None "
              "as a leaf, pass is_leaf=lambda x: x is None.)")


def _mismatch_error(spec, x, context, prefix_name, other_name):
    """The ValueError for ``x`` (named ``other_name``) not matching ``spec``."""
    found = _find_mismatch(spec, x)
    other = _spec_str(_flatten_spec(x, []))
    lines = [f"{context}: {other_name} does not have the tree structure of {prefix_name}."]
    hint = ""
    if found is not None:
        path, expected, got = found
        where = keystr(path) or "(the root)"
        lines.append(f"At key path {where}: {prefix_name} has {expected}, "
                     f"but {other_name} has {got}.")
        if expected == "None":
            hint = _NONE_HINT
    width = max(len(prefix_name), len(other_name)) + 1
    lines.append(f"  {(prefix_name + ':').ljust(width)} PyTreeDef({_spec_str(spec)})")
    lines.append(f"  {(other_name + ':').ljust(width)} PyTreeDef({other})")
    return ValueError("\n".join(lines) + hint)


def _subtrees_up_to(spec, x, context, prefix_name, other_name):
    """The subtrees of ``x`` at the leaves of ``spec`` (a list), or a clear ValueError."""
    if spec is None:
        return [x]
    out = []
    try:
        _flatten_up_to(spec, x, out)
    except _Mismatch:
        raise _mismatch_error(spec, x, context, prefix_name, other_name) from None
    return out


# --------------------------------------------------------------------------------------------
# PyTreeDef
# --------------------------------------------------------------------------------------------

class PyTreeDef:
    """The structure of a pytree: what ``tree_flatten`` returns beside the leaves.

    Immutable, hashable (aux data that cannot be hashed is left out of the hash, as in JAX),
    comparable with ``==`` and picklable (when its node types and aux data are).

    Example::

        >>> leaves, treedef = tree_flatten((1, {"a": 2}))
        >>> treedef
        PyTreeDef((*, {'a': *}))
        >>> treedef.unflatten([10, 20])
        (10, {'a': 20})
    """
    __slots__ = ("_spec", "_n", "_hash", "_builder")

    def __init__(self, spec, num_leaves):
        # Not for users: treedefs come from tree_flatten / tree_structure / treedef_tuple.
        self._spec = spec
        self._n = num_leaves
        self._hash = None
        self._builder = 0  # unflatten count so far, then a compiled builder (see tree_unflatten)

    @property
    def num_leaves(self):
        """The number of leaves."""
        return self._n

    @property
    def num_nodes(self):
        """The number of nodes, leaves included (``None`` and empty containers count as one)."""
        return _count_nodes(self._spec)

    def unflatten(self, leaves):
        """Build the tree with this structure and the given leaves (an iterable).

        Example::

            >>> tree_structure([0, (0, 0)]).unflatten("abc")
            ['a', ('b', 'c')]
        """
        return tree_unflatten(self, leaves)

    def flatten_up_to(self, tree):
        """The subtrees of ``tree`` found where this structure has leaves.

        ``tree`` must have every node of this structure (same types, lengths, keys and aux
        data); below this structure's leaves it may have anything.

        Example::

            >>> tree_structure((0, 0)).flatten_up_to(([1, 2], {"a": 3}))
            [[1, 2], {'a': 3}]
        """
        return _subtrees_up_to(self._spec, tree, "PyTreeDef.flatten_up_to",
                               "the treedef", "the tree")

    def children(self):
        """The structures of the root's children (empty for a leaf).

        Example::

            >>> tree_structure((1, [2, 3])).children()
            [PyTreeDef(*), PyTreeDef([*, *])]
        """
        if self._spec is None:
            return []
        return [PyTreeDef(k, _count_leaves(k)) for k in self._spec[2]]

    def node_data(self):
        """``(node_type, aux_data)`` for the root node, or None for a leaf.

        A dict's aux data is its list of sorted keys; tuples, lists and None have None.

        Example::

            >>> tree_structure({"b": 1, "a": 2}).node_data()
            (<class 'dict'>, ['a', 'b'])
        """
        spec = self._spec
        if spec is None:
            return None
        t, aux, _ = spec
        return (t, list(aux)) if t is dict else (t, aux)

    def compose(self, inner):
        """The structure made by putting a tree of structure ``inner`` at each leaf of this one.

        Example::

            >>> tree_structure((0, 0)).compose(tree_structure([0]))
            PyTreeDef(([*], [*]))
        """
        return PyTreeDef(_compose(self._spec, inner._spec), self._n * inner._n)

    def from_iterable_tree(self, xs):
        """Build a tree of this structure from nested iterables: each node of ``xs`` is an
        iterable of its children; at leaf positions the value is taken as is.

        Example::

            >>> tree_structure((0, {"a": 0})).from_iterable_tree([1, [2]])
            (1, {'a': 2})
        """
        return _from_iterable(self._spec, xs)

    def __eq__(self, other):
        if type(other) is not PyTreeDef:
            return NotImplemented
        return self._n == other._n and self._spec == other._spec

    def __hash__(self):
        # Computed once: jit hashes the same (cached) treedefs on every call.
        h = self._hash
        if h is None:
            try:
                h = hash(self._spec)
            except TypeError:  # aux data that cannot be hashed (a dict, a list, ...)
                h = _spec_hash_without_unhashable_aux(self._spec)
            self._hash = h
        return h

    def __repr__(self):
        return f"PyTreeDef({_spec_str(self._spec)})"

    def __reduce__(self):
        return _treedef_from_spec, (self._spec,)


def _spec_hash_without_unhashable_aux(spec):
    """A hash of ``spec`` in which aux data that cannot be hashed counts as nothing.

    As in JAX, aux data need only support ``==`` (equality still compares it): jit keys its
    cache on treedefs, and a registered class may keep e.g. a dict of settings as aux data.
    """
    if spec is None:
        return 0
    t, aux, children = spec
    try:
        aux_hash = hash(aux)
    except TypeError:
        aux_hash = 0
    return hash((t, aux_hash, tuple(map(_spec_hash_without_unhashable_aux, children))))


def _treedef_from_spec(spec):
    return PyTreeDef(spec, _count_leaves(spec))


def _leaf_count_error(expected, got):
    which = "few" if got < expected else "many"
    return ValueError(f"Too {which} leaves for PyTreeDef; expected {expected}, got {got}.")


def _compose(spec, inner):
    if spec is None:
        return inner
    t, aux, kids = spec
    return (t, aux, tuple(_compose(k, inner) for k in kids))


def _from_iterable(spec, xs):
    if spec is None:
        return xs
    t, aux, kids = spec
    xs = list(xs)
    if len(xs) != len(kids):
        raise ValueError(f"from_iterable_tree: a {t.__name__} node has {len(kids)} children "
                         f"but the iterable gave {len(xs)}")
    return _make_node(t, aux, [_from_iterable(k, x) for k, x in zip(kids, xs)])


_LEAF_DEF = PyTreeDef(None, 1)
# Treedefs of flat tuples/lists of n leaves, made once: the common jit argument shapes.
_FLAT_TUPLE_DEFS = tuple(PyTreeDef((tuple, None, (None,) * n), n) for n in range(64))
_FLAT_LIST_DEFS = tuple(PyTreeDef((list, None, (None,) * n), n) for n in range(64))
# Flat str-keyed dicts of leaves: keys in insertion order -> (treedef, sorted-order getter).
_flat_dict_defs = {}
_MAX_FLAT_DICT_DEFS = 4096
_STR_ONLY = frozenset((str,))


# --------------------------------------------------------------------------------------------
# Public functions.
# --------------------------------------------------------------------------------------------

def tree_flatten(tree, is_leaf=None):
    """Flatten a pytree into its leaves and its structure.

    Args:
      tree: the pytree.
      is_leaf: optional predicate; a subtree for which it returns True is taken as a leaf
        (it is asked about every subtree, outermost first).

    Returns:
      ``(leaves, treedef)``: the leaves in order (dict keys sorted) and a ``PyTreeDef``.

    Example::

        >>> tree_flatten({"b": (1, 2), "a": None})
        ([1, 2], PyTreeDef({'a': None, 'b': (*, *)}))
    """
    if is_leaf is None:
        t = type(tree)
        # Fast paths: a lone leaf, a flat tuple/list of leaves, a flat str-keyed dict of leaves.
        if t in _leaf_types:
            return [tree], _LEAF_DEF
        if t is tuple:
            if len(tree) < 64 and _leaf_types.issuperset(map(type, tree)):
                return list(tree), _FLAT_TUPLE_DEFS[len(tree)]
        elif t is list:
            if len(tree) < 64 and _leaf_types.issuperset(map(type, tree)):
                return list(tree), _FLAT_LIST_DEFS[len(tree)]
        elif t is dict:
            hit = _flat_dict_hit(tree)
            if hit is not None:
                return hit
        leaves = []
        spec = _flatten_spec(tree, leaves)
        return leaves, PyTreeDef(spec, len(leaves))
    leaves = []
    spec = _flatten_spec_is_leaf(tree, leaves, is_leaf)
    return leaves, PyTreeDef(spec, len(leaves))


def _flat_dict_hit(d):
    """``(leaves, treedef)`` for a dict of leaves with only str keys, from a cache; else None."""
    if not _leaf_types.issuperset(map(type, d.values())):
        return None
    order = tuple(d)
    entry = _flat_dict_defs.get(order)
    if entry is None:
        # Only exact str keys are cached: keys that are == but of other types (1 and True,
        # a str-valued enum and its string) must come back as given.
        if not _STR_ONLY.issuperset(map(type, order)):
            return None
        keys = _sorted_keys(d)
        getter = operator.itemgetter(*keys) if len(keys) > 1 else (
            (lambda x, k=keys[0]: (x[k],)) if keys else (lambda x: ()))
        entry = (PyTreeDef((dict, keys, (None,) * len(keys)), len(keys)), getter)
        if len(_flat_dict_defs) >= _MAX_FLAT_DICT_DEFS:
            _flat_dict_defs.clear()
        _flat_dict_defs[order] = entry
    elif not _STR_ONLY.issuperset(map(type, order)):
        return None
    treedef, getter = entry
    return list(getter(d)), treedef


def tree_unflatten(treedef, leaves):
    """Build a pytree from a structure and leaves (the inverse of ``tree_flatten``).

    Args:
      treedef: a ``PyTreeDef``.
      leaves: an iterable of exactly ``treedef.num_leaves`` leaves.

    Returns:
      The pytree. Dicts come back with sorted keys.

    Raises:
      ValueError: the wrong number of leaves ("Too few leaves for PyTreeDef; ...").

    Example::

        >>> tree_unflatten(tree_structure((0, {"a": 0})), [1, 2])
        (1, {'a': 2})
    """
    if type(leaves) is not list and type(leaves) is not tuple:
        leaves = list(leaves)
    if len(leaves) != treedef._n:
        raise _leaf_count_error(treedef._n, len(leaves))
    spec = treedef._spec
    if spec is None:
        return leaves[0]
    t, aux, kids = spec
    if any(kids):
        # A nested structure. One unflattened many times (jit's output structure) gets a
        # generated builder; others take the generic route.
        builder = treedef._builder
        if builder.__class__ is int:
            if builder < _COMPILE_AFTER:
                treedef._builder = builder + 1
                return _build(spec, iter(leaves))
            builder = treedef._builder = _compile_builder(spec)
        return builder(leaves)
    # A single node whose children are exactly the leaves (a flat tuple, list or dict).
    if t is tuple:
        return tuple(leaves)
    if t is dict:
        return dict(zip(aux, leaves))
    return _make_node(t, aux, list(leaves))


def tree_leaves(tree, is_leaf=None):
    """The leaves of a pytree, in flattening order.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to take as leaves.

    Returns:
      A list of leaves.

    Example::

        >>> tree_leaves([1, None, {"b": 3, "a": 2}])
        [1, 2, 3]
    """
    leaves = []
    if is_leaf is None:
        if type(tree) in _leaf_types:
            return [tree]
        _flatten_spec(tree, leaves)
    else:
        _flatten_spec_is_leaf(tree, leaves, is_leaf)
    return leaves


def tree_structure(tree, is_leaf=None):
    """The ``PyTreeDef`` of a pytree.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to take as leaves.

    Returns:
      The structure.

    Example::

        >>> tree_structure((1, [2, None]))
        PyTreeDef((*, [*, None]))
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f, tree, *rest, is_leaf=None):
    """Apply ``f`` to each leaf (and the matching parts of ``rest``), keeping the structure.

    Args:
      f: called as ``f(leaf, *matching)`` where ``matching`` holds the subtree of each tree in
        ``rest`` at that leaf's position.
      tree: the pytree whose leaves ``f`` maps over; its structure is the result's.
      *rest: more pytrees, each with ``tree``'s structure (or with subtrees at its leaves).
      is_leaf: optional predicate marking subtrees of ``tree`` to take as leaves.

    Returns:
      A pytree with ``tree``'s structure holding ``f``'s results.

    Raises:
      ValueError: a tree in ``rest`` does not have ``tree``'s structure; the message gives
        the key path where they differ and both structures.

    Example::

        >>> tree_map(lambda x, y: x + y, {"a": 1, "b": (2, 3)}, {"a": 10, "b": (20, 30)})
        {'a': 11, 'b': (22, 33)}
    """
    leaves = []
    if is_leaf is None:
        spec = _flatten_spec(tree, leaves)
    else:
        spec = _flatten_spec_is_leaf(tree, leaves, is_leaf)
    if spec is None:
        return f(tree, *rest)
    if not rest:
        return _build(spec, map(f, leaves))
    others = [_subtrees_up_to(spec, r, "tree_map", "tree", f"rest[{i}]")
              for i, r in enumerate(rest)]
    return _build(spec, map(f, leaves, *others))


def tree_flatten_with_path(tree, is_leaf=None, is_leaf_takes_path=False):
    """Flatten a pytree, giving each leaf's key path.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to take as leaves; called as
        ``is_leaf(x)``, or ``is_leaf(key_path, x)`` if ``is_leaf_takes_path``.
      is_leaf_takes_path: see ``is_leaf``.

    Returns:
      ``([(key_path, leaf), ...], treedef)``; a key path is a tuple of key entries
      (``SequenceKey``, ``DictKey``, ``GetAttrKey``, ``FlattenedIndexKey``, or custom ones).

    Example::

        >>> tree_flatten_with_path({"a": [5]})[0]
        [((DictKey(key='a'), SequenceKey(idx=0)), 5)]
    """
    out = []
    spec = _flatten_spec_with_path(tree, (), out, is_leaf, is_leaf_takes_path)
    return out, PyTreeDef(spec, len(out))


def tree_leaves_with_path(tree, is_leaf=None, is_leaf_takes_path=False):
    """The ``(key_path, leaf)`` pairs of a pytree (``tree_flatten_with_path`` without the
    structure).

    Example::

        >>> tree_leaves_with_path((1, {"x": 2}))
        [((SequenceKey(idx=0),), 1), ((SequenceKey(idx=1), DictKey(key='x')), 2)]
    """
    out = []
    _flatten_spec_with_path(tree, (), out, is_leaf, is_leaf_takes_path)
    return out


def tree_map_with_path(f, tree, *rest, is_leaf=None, is_leaf_takes_path=False):
    """Like ``tree_map``, but ``f`` is called as ``f(key_path, leaf, *matching)``.

    Args:
      f: the function.
      tree: the pytree giving the structure and the key paths.
      *rest: more pytrees with ``tree``'s structure.
      is_leaf: optional predicate marking subtrees of ``tree`` to take as leaves.
      is_leaf_takes_path: if True, ``is_leaf`` is called as ``is_leaf(key_path, x)``.

    Returns:
      A pytree with ``tree``'s structure.

    Example::

        >>> tree_map_with_path(lambda p, x: keystr(p), {"a": (1, 2)})
        {'a': ("['a'][0]", "['a'][1]")}
    """
    out = []
    spec = _flatten_spec_with_path(tree, (), out, is_leaf, is_leaf_takes_path)
    paths = [p for p, _ in out]
    leaves = [x for _, x in out]
    others = [_subtrees_up_to(spec, r, "tree_map_with_path", "tree", f"rest[{i}]")
              for i, r in enumerate(rest)]
    return _rebuild(spec, map(f, paths, leaves, *others))


class _Missing:
    def __repr__(self):
        return "<no initializer>"


_MISSING = _Missing()


def tree_reduce(function, tree, initializer=_MISSING, is_leaf=None):
    """Fold ``function`` over the leaves, left to right (``functools.reduce`` on the leaves).

    Args:
      function: ``(accumulated, leaf) -> accumulated``.
      tree: the pytree.
      initializer: optional starting value (required if the tree may have no leaves).
      is_leaf: optional predicate marking subtrees to take as leaves.

    Returns:
      The accumulated value.

    Example::

        >>> tree_reduce(lambda a, b: a + b, {"x": 1, "y": (2, 3)})
        6
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _MISSING:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_reduce_associative(operation, tree, *, identity=_MISSING, is_leaf=None):
    """Combine the leaves with an associative ``operation``, pairwise in a balanced tree.

    Args:
      operation: an associative ``(a, b) -> c``.
      tree: the pytree.
      identity: returned when there are no leaves (required then).
      is_leaf: optional predicate marking subtrees to take as leaves.

    Returns:
      The combined value.

    Example::

        >>> tree_reduce_associative(lambda a, b: a + b, [1, 2, 3, 4])
        10
    """
    items = tree_leaves(tree, is_leaf)
    if not items:
        if identity is _MISSING:
            raise TypeError("tree_reduce_associative: the tree has no leaves; give identity=")
        return identity
    while len(items) > 1:
        pairs = [operation(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            pairs.append(items[-1])
        items = pairs
    return items[0]


def tree_all(tree, *, is_leaf=None):
    """True if every leaf is truthy (True for a tree with no leaves).

    Example::

        >>> tree_all([True, (1, "x")]), tree_all({"a": 0})
        (True, False)
    """
    return all(tree_leaves(tree, is_leaf))


def tree_broadcast(prefix_tree, full_tree, is_leaf=None):
    """Repeat each leaf of ``prefix_tree`` over the matching subtree of ``full_tree``.

    Args:
      prefix_tree: a pytree whose structure is a prefix of ``full_tree``'s.
      full_tree: the pytree giving the result's structure.
      is_leaf: optional predicate marking subtrees of ``prefix_tree`` to take as leaves.

    Returns:
      A pytree with ``full_tree``'s structure whose leaves are ``prefix_tree``'s leaves.

    Example::

        >>> tree_broadcast((1, 2), ((0, 0), {"a": 0}))
        ((1, 1), {'a': 2})
    """
    leaves = []
    if is_leaf is None:
        spec = _flatten_spec(prefix_tree, leaves)
    else:
        spec = _flatten_spec_is_leaf(prefix_tree, leaves, is_leaf)
    subtrees = _subtrees_up_to(spec, full_tree, "tree_broadcast", "prefix_tree", "full_tree")
    out = []
    for leaf, sub in zip(leaves, subtrees):
        out.extend([leaf] * len(tree_leaves(sub)))
    return tree_structure(full_tree).unflatten(out)


def broadcast_prefix_leaves(prefix_tree, full_tree, context, prefix_name, full_name,
                            is_leaf=None):
    """For each leaf of ``full_tree`` (in flattening order), the leaf of ``prefix_tree`` above it.

    ``None`` in ``prefix_tree`` is a leaf (as in vmap's ``in_axes``), and so is anything
    ``is_leaf`` accepts (a PartitionSpec, which is a tuple, for shardings). A ``prefix_tree``
    that is not a prefix of ``full_tree`` raises ValueError showing both structures, worded with
    ``context`` and the two names.
    """
    leaves = []
    spec = _flatten_spec_is_leaf(prefix_tree, leaves, (lambda x: x is None) if is_leaf is None
                                 else (lambda x: x is None or is_leaf(x)))
    subtrees = _subtrees_up_to(spec, full_tree, context, prefix_name, full_name)
    out = []
    for leaf, sub in zip(leaves, subtrees):
        out.extend([leaf] * len(tree_leaves(sub)))
    return out


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    """Turn a tree of structure ``outer`` of trees of structure ``inner`` inside out.

    Args:
      outer_treedef: the outer structure.
      inner_treedef: the inner structure, or None to take it from the first inner tree.
      pytree_to_transpose: a tree of structure ``outer_treedef.compose(inner_treedef)``.

    Returns:
      A tree of structure ``inner_treedef.compose(outer_treedef)``.

    Raises:
      TypeError: the tree does not have the composed structure.

    Example::

        >>> tree_transpose(tree_structure([0, 0]), tree_structure((0, 0)), [(1, 2), (3, 4)])
        ([1, 3], [2, 4])
    """
    try:
        outer_parts = outer_treedef.flatten_up_to(pytree_to_transpose)
        if inner_treedef is None:
            if not outer_parts:
                raise TypeError("tree_transpose: outer_treedef has no leaves, so inner_treedef "
                                "cannot be inferred; pass it explicitly")
            inner_treedef = tree_structure(outer_parts[0])
        total = len(tree_leaves(pytree_to_transpose))
        if total != outer_treedef.num_leaves * inner_treedef.num_leaves:
            raise ValueError(f"it has {total} leaves, not {outer_treedef.num_leaves} * "
                             f"{inner_treedef.num_leaves}")
        inner_parts = [inner_treedef.flatten_up_to(p) for p in outer_parts]
    except ValueError as e:
        expected = outer_treedef.compose(inner_treedef) if inner_treedef is not None else None
        raise TypeError(f"tree_transpose: the tree's structure "
                        f"{tree_structure(pytree_to_transpose)} is not the expected "
                        f"{expected}:\n{e}") from None
    if inner_parts:
        columns = zip(*inner_parts)
    else:
        columns = [()] * inner_treedef.num_leaves
    return inner_treedef.unflatten([outer_treedef.unflatten(c) for c in columns])


def treedef_is_leaf(treedef):
    """True if ``treedef`` is the structure of a lone leaf (``None`` is not a leaf).

    Example::

        >>> treedef_is_leaf(tree_structure(1.0)), treedef_is_leaf(tree_structure(None))
        (True, False)
    """
    return treedef._spec is None


def all_leaves(iterable, is_leaf=None):
    """True if every item of ``iterable`` is a leaf (a pytree with no nodes).

    Args:
      iterable: the items.
      is_leaf: optional predicate; items it accepts count as leaves.

    Example::

        >>> all_leaves([1, "a"]), all_leaves([1, None]), all_leaves([(1,)])
        (True, False, False)
    """
    if is_leaf is None:
        return all(_kind_of(type(x)) is None for x in iterable)
    return all(is_leaf(x) or _kind_of(type(x)) is None for x in iterable)


def treedef_children(treedef):
    """The structures of the children of ``treedef``'s root (``treedef.children()``).

    Example::

        >>> treedef_children(tree_structure((1, [2])))
        [PyTreeDef(*), PyTreeDef([*])]
    """
    return treedef.children()


def treedef_tuple(treedefs):
    """The structure of a tuple whose elements have the given structures.

    Example::

        >>> treedef_tuple([tree_structure(1), tree_structure([1, 2])])
        PyTreeDef((*, [*, *]))
    """
    treedefs = list(treedefs)
    return PyTreeDef((tuple, None, tuple(td._spec for td in treedefs)),
                     sum(td._n for td in treedefs))


def build_tree(treedef, xs):
    """Build a tree of structure ``treedef`` from nested iterables (each node of ``xs`` an
    iterable of its children, leaves as they are): ``treedef.from_iterable_tree(xs)``.

    Example::

        >>> build_tree(tree_structure({"a": 0, "b": (0, 0)}), [1, [2, 3]])
        {'a': 1, 'b': (2, 3)}
    """
    return treedef.from_iterable_tree(xs)


# --------------------------------------------------------------------------------------------
# Partial
# --------------------------------------------------------------------------------------------

class _HeldPartial:
    """A ``functools.partial`` given as the function of a ``Partial``, held as is.

    ``functools.partial`` would otherwise merge the inner partial's arguments into the outer
    one, turning the inner (static) arguments into pytree children.
    """
    __slots__ = ("wrapped",)

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def __call__(self, *args, **kwargs):
        return self.wrapped(*args, **kwargs)

    def __eq__(self, other):
        return type(other) is _HeldPartial and self.wrapped == other.wrapped

    def __hash__(self):
        return hash(self.wrapped)

    def __repr__(self):
        return repr(self.wrapped)

    def __reduce__(self):
        return _HeldPartial, (self.wrapped,)


_partial_raw_func = functools.partial.__dict__["func"].__get__


class Partial(functools.partial):
    """A ``functools.partial`` that is a pytree: the function is static aux data, the bound
    positional and keyword arguments are children. It can be passed to and returned from
    ``jit``-ed functions, with the bound arguments traced.

    Example::

        >>> add = Partial(lambda x, y: x + y, 1)
        >>> tree_leaves(add), add(2)
        ([1], 3)
        >>> tree_map(lambda v: v * 10, add)(2)
        12
    """

    def __new__(cls, func, /, *args, **kwargs):
        if isinstance(func, functools.partial):
            func = _HeldPartial(func)
        return super().__new__(cls, func, *args, **kwargs)

    @property
    def func(self):
        """The wrapped function."""
        f = _partial_raw_func(self)
        return f.wrapped if type(f) is _HeldPartial else f


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), _partial_raw_func(p)),
    lambda func, children: Partial(func, *children[0], **children[1]),
)


# --------------------------------------------------------------------------------------------
# One-level flattening and the registry object.
# --------------------------------------------------------------------------------------------

def _node_of(tree, what):
    kind = _kind_of(type(tree))
    if kind is None:
        raise ValueError(f"can't tree-flatten type: {type(tree)} ({what} takes a pytree node "
                         "such as a tuple, list, dict, None or a registered class, not a leaf)")
    return kind


def _one_level_aux(kind, aux):
    # A namedtuple's node data is its class (what JAX reports), not our internal None.
    return kind.type if kind.label == "namedtuple" else aux


def flatten_one_level(tree):
    """The children of the pytree node ``tree`` (not flattened further) and its node data.

    ``flatten_one_level({'a': [1, 2], 'b': 3})`` is ``(([1, 2], 3), ('a', 'b'))``. Raises
    ``ValueError`` for a leaf (an array, a number, an unregistered object).
    """
    kind = _node_of(tree, "flatten_one_level")
    children, aux = kind.flatten(tree)
    return tuple(_as_sequence(children)), _one_level_aux(kind, aux)


def flatten_one_level_with_keys(tree):
    """Like :func:`flatten_one_level`, with each child paired with its key:
    ``(((DictKey('a'), [1, 2]), (DictKey('b'), 3)), ('a', 'b'))``."""
    kind = _node_of(tree, "flatten_one_level_with_keys")
    keys, children, aux = kind.keyed(tree)
    return tuple(zip(keys, _as_sequence(children))), _one_level_aux(kind, aux)


def is_tree_node(typ) -> bool:
    """Whether values of the type ``typ`` are pytree nodes (built-in containers, namedtuples,
    registered classes) rather than leaves."""
    if not isinstance(typ, type):
        raise TypeError(f"is_tree_node takes a type, got {typ!r}; use is_tree_node(type(x)).")
    return _kind_of(typ) is not None


class PyTreeRegistry:
    """The registry of pytree node types (JAX's ``tree_util.default_registry``).

    jaxel has one registry; this object gives it JAX's method names: ``flatten``,
    ``flatten_with_path``, ``flatten_one_level``, ``flatten_one_level_with_keys``, ``is_node``,
    ``register_node`` and ``register_dataclass_node``.
    """

    def flatten(self, tree, leaf_predicate=None):
        """``(leaves, treedef)``, as :func:`tree_flatten`."""
        return tree_flatten(tree, is_leaf=leaf_predicate)

    def flatten_with_path(self, tree, leaf_predicate=None):
        """``(key-path/leaf pairs, treedef)``, as :func:`tree_flatten_with_path`."""
        return tree_flatten_with_path(tree, is_leaf=leaf_predicate)

    def flatten_one_level(self, tree):
        """``(children, node data)`` of a node, or None for a leaf."""
        return flatten_one_level(tree) if _kind_of(type(tree)) is not None else None

    def flatten_one_level_with_keys(self, tree):
        """``((key, child) pairs, node data)`` of a node, or None for a leaf."""
        return flatten_one_level_with_keys(tree) if _kind_of(type(tree)) is not None else None

    def is_node(self, typ) -> bool:
        """Whether ``typ`` is a node type."""
        return is_tree_node(typ)

    def register_node(self, nodetype, to_iterable, from_iterable, to_iterable_with_keys=None):
        """Register ``nodetype``, as :func:`register_pytree_node`."""
        register_pytree_node(nodetype, to_iterable, from_iterable, to_iterable_with_keys)

    def register_dataclass_node(self, nodetype, data_fields, meta_fields):
        """Register a dataclass-like ``nodetype``, as :func:`register_dataclass`."""
        register_dataclass(nodetype, data_fields, meta_fields)

    def __repr__(self):
        return "<jaxel default pytree registry>"


default_registry = PyTreeRegistry()
