"""``jaxel.scipy.spatial.transform`` (JAX's ``jax.scipy.spatial.transform``): 3-D rotations
(``Rotation``) and spherical linear interpolation between them (``Slerp``).

A ``Rotation`` holds unit quaternions in SciPy's scalar-last order ``(x, y, z, w)``: one
rotation is a ``(4,)`` array (``single``), a stack of rotations is ``(..., 4)`` (leading
dimensions are batch dimensions; operations broadcast them as NumPy does).  ``Rotation`` and
``Slerp`` are named tuples, hence pytrees: they pass through ``jit``/``vmap`` and every
conversion is a composition of ``jaxel.numpy`` operations.

Conversions:

* matrices to quaternions: of the four equivalent formulas (each proportional to ``q`` times
  one of ``x, y, z, w``), the one with the largest pivot (largest diagonal entry or trace)
  is chosen per rotation, then normalised;
* rotation vectors: ``q = (sin(θ/2) v/θ, cos(θ/2))``, with Taylor series for small angles
  so the results and their derivatives are finite at the identity;
* modified Rodrigues parameters: ``p = v / (1 + w)`` for the quaternion with ``w >= 0``;
* Euler angles (``as_euler``): the direct quaternion method of Bernardes and Viollet (2022),
  for any of the 12 axis sequences, extrinsic (lowercase) or intrinsic (uppercase).  In
  gimbal lock (middle angle 0 or π, within 1e-7) the third angle is set to zero, as SciPy
  does (SciPy's warning is not emitted: it would need a data-dependent check).

``Rotation.mean`` is the weighted quaternion average of Markley et al.: the eigenvector of
``Σ wᵢ qᵢ qᵢᵀ`` with the largest eigenvalue.

``from_matrix`` first replaces each matrix by its polar factor (the nearest orthogonal
matrix, as SciPy), computed with a fixed number of scaled Newton steps (3x3 inverses from
cross products), so it stays differentiable and traceable.

Differences from SciPy: ``Slerp`` extrapolates outside its time range (SciPy raises; a
data-dependent error is impossible under ``jit``), and ``from_matrix`` of a matrix with a
non-positive determinant gives NaN under ``jit`` (outside ``jit`` it raises, as SciPy).
"""
from __future__ import annotations

import typing
from typing import NamedTuple

import numpy as np

from jaxel import lax
from jaxel import numpy as jnp
from jaxel import random as _random
from jaxel.errors import ConcretizationTypeError
from jaxel.numpy._util import promote_dtypes_inexact

__all__ = ["Rotation", "Slerp"]

_GIMBAL_EPS = 1e-7
_SMALL_ANGLE = 1e-3


def _float_array(x, name):
    """``x`` as a real floating array (integers become the default float dtype)."""
    try:
        x = jnp.asarray(x)
    except TypeError as e:
        raise TypeError(f"{name} must be array-like; got {type(x).__name__}.") from e
    if jnp.iscomplexobj(x):
        raise TypeError(f"{name} must be real; got dtype {x.dtype}.")
    (x,) = promote_dtypes_inexact(x)
    return x


def _check_last(x, size, name):
    if x.ndim == 0 or x.shape[-1] != size:
        raise ValueError(f"Expected `{name}` to have shape (..., {size}); got {x.shape}.")


def _normalize(q):
    return q / jnp.linalg.norm(q, axis=-1, keepdims=True)


def _safe_norm(v):
    """``(|v|, |v|^2)`` over the last axis, with a finite derivative at ``v = 0``."""
    sq = jnp.sum(v * v, axis=-1)
    zero = sq == 0
    return jnp.where(zero, 0.0, jnp.sqrt(jnp.where(zero, 1.0, sq))), sq


def _quat_multiply(p, q):
    """Hamilton product ``p q`` of scalar-last quaternions (rotation ``q`` first, then ``p``)."""
    pv, pw = p[..., :3], p[..., 3:]
    qv, qw = q[..., :3], q[..., 3:]
    vector = pw * qv + qw * pv + jnp.cross(pv, qv)
    scalar = pw * qw - jnp.sum(pv * qv, axis=-1, keepdims=True)
    return jnp.concatenate([vector, scalar], axis=-1)


def _canonical(q):
    """``q`` or ``-q``: the one whose first nonzero entry among ``w, x, y, z`` is positive."""
    decider = q[..., 3]
    for i in range(3):
        decider = jnp.where(decider == 0, q[..., i], decider)
    return jnp.where((decider < 0)[..., None], -q, q)


def _positive_w(q):
    return jnp.where((q[..., 3] < 0)[..., None], -q, q)


def _quat_to_matrix(q):
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz = x * y, x * z, y * z
    xw, yw, zw = x * w, y * w, z * w
    rows = [
        [1 - 2 * (yy + zz), 2 * (xy - zw), 2 * (xz + yw)],
        [2 * (xy + zw), 1 - 2 * (xx + zz), 2 * (yz - xw)],
        [2 * (xz - yw), 2 * (yz + xw), 1 - 2 * (xx + yy)],
    ]
    return jnp.stack([jnp.stack(r, axis=-1) for r in rows], axis=-2)


def _cofactor_and_det(m):
    """Cofactor matrix (``det(m) m^{-T}``) and determinant of 3x3 matrices, from the rows'
    cross products."""
    r0, r1, r2 = m[..., 0, :], m[..., 1, :], m[..., 2, :]
    cof = jnp.stack([jnp.cross(r1, r2), jnp.cross(r2, r0), jnp.cross(r0, r1)], axis=-2)
    return cof, jnp.sum(r0 * cof[..., 0, :], axis=-1)


def _nearest_rotation(m, iterations=10):
    """The orthogonal factor of the polar decomposition of ``m`` (the nearest orthogonal
    matrix, a rotation when ``det(m) > 0``), by the scaled Newton iteration
    ``X <- (g X + X^{-T} / g) / 2`` with ``g = sqrt(|X^{-1}|_F / |X|_F)``; a fixed number
    of steps (enough for any reasonably conditioned input), exact rotations are fixed points.
    """
    def step(_, x):
        cof, det = _cofactor_and_det(x)
        inv_t = cof / det[..., None, None]
        norm_x = jnp.sqrt(jnp.sum(x * x, axis=(-2, -1)))
        norm_inv = jnp.sqrt(jnp.sum(inv_t * inv_t, axis=(-2, -1)))
        g = jnp.sqrt(norm_inv / norm_x)[..., None, None]
        return (g * x + inv_t / g) / 2

    return lax.fori_loop(0, iterations, step, m)


def _matrix_to_quat(m):
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    candidates = []
    for i in range(3):  # 4 q_i q, from the i-th diagonal entry
        j, k = (i + 1) % 3, (i + 2) % 3
        comp = [None] * 4
        comp[i] = 1 - trace + 2 * m[..., i, i]
        comp[j] = m[..., j, i] + m[..., i, j]
        comp[k] = m[..., k, i] + m[..., i, k]
        comp[3] = m[..., k, j] - m[..., j, k]
        candidates.append(jnp.stack(comp, axis=-1))
    candidates.append(jnp.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0],
                                 m[..., 1, 0] - m[..., 0, 1], 1 + trace], axis=-1))  # 4 w q
    candidates = jnp.stack(candidates, axis=-2)
    pivots = jnp.stack([m[..., 0, 0], m[..., 1, 1], m[..., 2, 2], trace], axis=-1)
    choice = jnp.argmax(pivots, axis=-1)
    q = jnp.take_along_axis(candidates, choice[..., None, None], axis=-2)[..., 0, :]
    return _normalize(q)


def _rotvec_to_quat(v):
    angle, sq = _safe_norm(v)
    small = angle < _SMALL_ANGLE
    safe = jnp.where(small, 1.0, angle)
    scale = jnp.where(small, 0.5 - sq / 48 + sq * sq / 3840, jnp.sin(safe / 2) / safe)
    w = jnp.where(small, 1 - sq / 8 + sq * sq / 384, jnp.cos(safe / 2))
    return jnp.concatenate([scale[..., None] * v, w[..., None]], axis=-1)


def _quat_to_rotvec(q):
    q = _positive_w(q)
    vnorm, _ = _safe_norm(q[..., :3])
    angle = 2 * jnp.arctan2(vnorm, q[..., 3])
    small = angle < _SMALL_ANGLE
    safe = jnp.where(small, 1.0, angle)
    sq = angle * angle
    scale = jnp.where(small, 2 + sq / 12 + 7 * sq * sq / 2880, safe / jnp.sin(safe / 2))
    return scale[..., None] * q[..., :3]


def _parse_seq(seq, name, length=None):
    """Axis indices of an Euler sequence and whether it is intrinsic (uppercase)."""
    if not isinstance(seq, str):
        raise TypeError(f"{name}: seq must be a string such as 'xyz'; got {type(seq).__name__}.")
    if not 1 <= len(seq) <= 3 or (length is not None and len(seq) != length):
        want = f"{length}" if length is not None else "1 to 3"
        raise ValueError(f"{name}: expected {want} axes in seq; got {seq!r}.")
    if not (set(seq) <= set("xyz") or set(seq) <= set("XYZ")):
        raise ValueError(f"{name}: expected the axes in seq to be all from 'xyz' (extrinsic) or "
                         f"all from 'XYZ' (intrinsic); got {seq!r}.")
    if any(a == b for a, b in zip(seq, seq[1:])):
        raise ValueError(f"{name}: expected consecutive axes to be different; got {seq!r}.")
    return ["xyz".index(c) for c in seq.lower()], seq.isupper()


def _wrap(angle):
    """Angles in ``[-2π, 2π]`` moved into ``[-π, π]``."""
    return jnp.where(angle < -np.pi, angle + 2 * np.pi,
                     jnp.where(angle > np.pi, angle - 2 * np.pi, angle))


def _quat_to_euler(q, axes, intrinsic):
    # An intrinsic sequence is the reversed extrinsic one with the angles reversed.
    i, j, k = axes[::-1] if intrinsic else axes
    symmetric = i == k
    if symmetric:
        k = 3 - i - j
    sign = (i - j) * (j - k) * (k - i) // 2  # +1 for a cyclic (i, j, k), -1 otherwise
    qi, qj, qk, w = q[..., i], q[..., j], q[..., k], q[..., 3]
    if symmetric:
        a, b, c, d = w, qi, qj, qk * sign
    else:
        a, b, c, d = w - qj, qi + qk * sign, qj + w, qk * sign - qi
    middle = 2 * jnp.arctan2(jnp.hypot(c, d), jnp.hypot(a, b))
    half_sum, half_diff = jnp.arctan2(b, a), jnp.arctan2(d, c)
    lock_zero = jnp.abs(middle) <= _GIMBAL_EPS
    lock_pi = jnp.abs(middle - np.pi) <= _GIMBAL_EPS
    lock = lock_zero | lock_pi
    # In gimbal lock only first + third (middle 0) or third - first (middle π) is defined;
    # the angle that ends up third in the caller's sequence is set to zero.
    if intrinsic:
        first = jnp.where(lock, 0.0, half_sum - half_diff)
        third = jnp.where(lock_zero, 2 * half_sum,
                          jnp.where(lock_pi, 2 * half_diff, half_sum + half_diff))
    else:
        first = jnp.where(lock_zero, 2 * half_sum,
                          jnp.where(lock_pi, -2 * half_diff, half_sum - half_diff))
        third = jnp.where(lock, 0.0, half_sum + half_diff)
    if not symmetric:
        third = third * sign
        middle = middle - np.pi / 2
    angles = [_wrap(first), middle, _wrap(third)]
    if intrinsic:
        angles = angles[::-1]
    return jnp.stack(angles, axis=-1)


def _elementary_quat(axis, angle):
    half = angle / 2
    zero = jnp.zeros_like(half)
    comp = [zero, zero, zero, jnp.cos(half)]
    comp[axis] = jnp.sin(half)
    return jnp.stack(comp, axis=-1)


def _concrete_bool(x):
    """``bool(x)``, or True when ``x`` is traced (the check is then skipped)."""
    try:
        return bool(x)
    except ConcretizationTypeError:
        return True


def _broadcast_batch(a, b, what):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(f"{what}: cannot broadcast {a} rotations with {b}.") from None


class Rotation(NamedTuple):
    """Rotations in 3 dimensions, like ``scipy.spatial.transform.Rotation``: ``quat`` holds
    unit quaternions ``(x, y, z, w)`` (scalar last), shape ``(4,)`` for a single rotation or
    ``(..., 4)`` for a stack.  Build one with the ``from_*`` constructors (which normalise);
    ``Rotation(quat)`` takes ``quat`` as it is.

    Example::

        >>> r = Rotation.from_euler("z", 90.0, degrees=True)
        >>> r.apply(jnp.array([1.0, 0.0, 0.0]))  # ~ [0, 1, 0]
    """

    quat: typing.Any

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def from_quat(cls, quat, *, scalar_first: bool = False) -> "Rotation":
        """Rotation(s) from quaternions of shape ``(..., 4)``, scalar-last ``(x, y, z, w)``
        (``scalar_first=True``: ``(w, x, y, z)``); they are normalised to unit length."""
        quat = _float_array(quat, "Rotation.from_quat: quat")
        _check_last(quat, 4, "quat")
        if scalar_first:
            quat = jnp.roll(quat, -1, axis=-1)
        return cls(_normalize(quat))

    @classmethod
    def from_matrix(cls, matrix) -> "Rotation":
        """Rotation(s) from rotation matrices of shape ``(..., 3, 3)``.  A matrix that is not
        orthogonal is first replaced by the nearest orthogonal one (its polar factor), as in
        SciPy; matrices must have a positive determinant (ValueError, or NaN under ``jit``)."""
        matrix = _float_array(matrix, "Rotation.from_matrix: matrix")
        if matrix.ndim < 2 or matrix.shape[-2:] != (3, 3):
            raise ValueError(f"Expected `matrix` to have shape (..., 3, 3); got {matrix.shape}.")
        _, det = _cofactor_and_det(matrix)
        if not _concrete_bool(jnp.all(det > 0)):
            raise ValueError("Rotation.from_matrix: every matrix must have a positive "
                             "determinant (a right-handed frame).")
        quat = _matrix_to_quat(_nearest_rotation(matrix))
        # a non-positive determinant (only reachable under tracing) gives NaN
        return cls(jnp.where((det > 0)[..., None], quat, jnp.nan))

    @classmethod
    def from_rotvec(cls, rotvec, degrees: bool = False) -> "Rotation":
        """Rotation(s) from rotation vectors ``(..., 3)`` (axis times angle, in radians or
        in degrees with ``degrees=True``)."""
        rotvec = _float_array(rotvec, "Rotation.from_rotvec: rotvec")
        _check_last(rotvec, 3, "rotvec")
        if degrees:
            rotvec = jnp.deg2rad(rotvec)
        return cls(_rotvec_to_quat(rotvec))

    @classmethod
    def from_mrp(cls, mrp) -> "Rotation":
        """Rotation(s) from modified Rodrigues parameters ``(..., 3)``
        (``axis * tan(angle / 4)``)."""
        mrp = _float_array(mrp, "Rotation.from_mrp: mrp")
        _check_last(mrp, 3, "mrp")
        sq = jnp.sum(mrp * mrp, axis=-1, keepdims=True)
        return cls(jnp.concatenate([2 * mrp, 1 - sq], axis=-1) / (1 + sq))

    @classmethod
    def from_euler(cls, seq: str, angles, degrees: bool = False) -> "Rotation":
        """Rotation(s) from Euler angles: ``seq`` is 1 to 3 axes, all lowercase (extrinsic:
        about the fixed frame) or all uppercase (intrinsic: about the rotating frame), e.g.
        ``"xyz"`` or ``"ZXZ"``; ``angles`` has shape ``(..., len(seq))`` (a scalar for a
        one-axis ``seq``)."""
        axes, intrinsic = _parse_seq(seq, "Rotation.from_euler")
        angles = _float_array(angles, "Rotation.from_euler: angles")
        if len(axes) == 1 and angles.ndim == 0:
            angles = angles[None]
        if angles.ndim == 0 or angles.shape[-1] != len(axes):
            raise ValueError("Rotation.from_euler: expected the last dimension of `angles` to "
                             f"match the number of axes in seq {seq!r}; got shape "
                             f"{angles.shape}.")
        if degrees:
            angles = jnp.deg2rad(angles)
        q = _elementary_quat(axes[0], angles[..., 0])
        for n in range(1, len(axes)):
            e = _elementary_quat(axes[n], angles[..., n])
            q = _quat_multiply(q, e) if intrinsic else _quat_multiply(e, q)
        return cls(q)

    @classmethod
    def identity(cls, num: int | None = None, dtype=float) -> "Rotation":
        """The identity rotation (single), or ``num`` of them."""
        q = jnp.asarray([0.0, 0.0, 0.0, 1.0], dtype=dtype)
        if num is None:
            return cls(q)
        if int(num) < 0:
            raise ValueError(f"Rotation.identity: num must be non-negative; got {num}.")
        return cls(jnp.tile(q, (int(num), 1)))

    @classmethod
    def random(cls, random_key, num: int | None = None) -> "Rotation":
        """Uniformly distributed random rotation(s) (normalised Gaussian quaternions) from
        the ``jaxel.random`` key ``random_key``: one, or ``num`` of them."""
        shape = (4,) if num is None else (int(num), 4)
        return cls(_normalize(_random.normal(random_key, shape)))

    @classmethod
    def concatenate(cls, rotations: typing.Sequence) -> "Rotation":
        """One stack of the rotations in the sequence ``rotations`` (single rotations count
        as stacks of one)."""
        if isinstance(rotations, Rotation):
            rotations = [rotations]
        rotations = list(rotations)
        if not rotations or not all(isinstance(r, Rotation) for r in rotations):
            raise TypeError("Rotation.concatenate: expected a non-empty sequence of Rotation "
                            "objects.")
        quats = [r.quat[None] if r.single else r.quat for r in rotations]
        if len({q.ndim for q in quats}) != 1:
            raise ValueError("Rotation.concatenate: the rotations must have the same number of "
                             "batch dimensions.")
        return cls(jnp.concatenate(quats, axis=0))

    # ---- conversions --------------------------------------------------------------------
    def as_quat(self, canonical: bool = False, scalar_first: bool = False):
        """The quaternions ``(..., 4)``, scalar-last unless ``scalar_first``; ``canonical``
        picks the sign with ``w > 0`` (first nonzero of ``w, x, y, z`` positive)."""
        q = _canonical(self.quat) if canonical else self.quat
        return jnp.roll(q, 1, axis=-1) if scalar_first else q

    def as_matrix(self):
        """The rotation matrices, shape ``(..., 3, 3)``."""
        return _quat_to_matrix(self.quat)

    def as_rotvec(self, degrees: bool = False):
        """The rotation vectors ``(..., 3)``: axis times angle, angle in ``[0, π]``."""
        v = _quat_to_rotvec(self.quat)
        return jnp.rad2deg(v) if degrees else v

    def as_mrp(self):
        """The modified Rodrigues parameters ``(..., 3)`` (norm at most 1)."""
        q = _positive_w(self.quat)
        return q[..., :3] / (1 + q[..., 3:])

    def as_euler(self, seq: str, degrees: bool = False):
        """Euler angles ``(..., 3)`` for the three-axis ``seq`` (see ``from_euler``): first and
        third angles in ``[-π, π]``, the middle one in ``[0, π]`` (repeated first/third axis)
        or ``[-π/2, π/2]``.  In gimbal lock the third angle is set to zero."""
        axes, intrinsic = _parse_seq(seq, "Rotation.as_euler", length=3)
        angles = _quat_to_euler(self.quat, axes, intrinsic)
        return jnp.rad2deg(angles) if degrees else angles

    # ---- operations ---------------------------------------------------------------------
    def apply(self, vectors, inverse: bool = False):
        """Rotate ``vectors`` ``(..., 3)`` (broadcast against the rotations' batch shape);
        ``inverse=True`` applies the inverse rotations."""
        vectors = jnp.asarray(vectors)
        _check_last(vectors, 3, "vectors")
        _broadcast_batch(self.quat.shape[:-1], vectors.shape[:-1], "Rotation.apply")
        m = self.as_matrix()
        if inverse:
            m = jnp.swapaxes(m, -1, -2)
        vectors, m = promote_dtypes_inexact(vectors, m)
        return jnp.sum(m * vectors[..., None, :], axis=-1)

    def inv(self) -> "Rotation":
        """The inverse rotation(s)."""
        return Rotation(jnp.concatenate([-self.quat[..., :3], self.quat[..., 3:]], axis=-1))

    def magnitude(self):
        """The rotation angle(s) in radians, in ``[0, π]``."""
        vnorm, _ = _safe_norm(self.quat[..., :3])
        return 2 * jnp.arctan2(vnorm, jnp.abs(self.quat[..., 3]))

    def mean(self, weights=None) -> "Rotation":
        """The (weighted) mean rotation of all the rotations, a single rotation: the
        eigenvector of ``Σ wᵢ qᵢ qᵢᵀ`` with the largest eigenvalue.  ``weights`` (one
        non-negative value per rotation) defaults to equal weights."""
        q = self.quat.reshape(-1, 4)
        if weights is None:
            w = jnp.ones(q.shape[:1], q.dtype)
        else:
            w = jnp.asarray(weights)
            if w.shape != self.quat.shape[:-1]:
                raise ValueError(f"Rotation.mean: expected weights of shape "
                                 f"{self.quat.shape[:-1]} (one per rotation); got {w.shape}.")
            w = w.reshape(-1).astype(q.dtype)
        k = jnp.einsum("n,ni,nj->ij", w, q, q)
        _, vectors = jnp.linalg.eigh(k)
        return Rotation(vectors[:, -1])

    @property
    def single(self) -> bool:
        """Whether this is a single rotation (``quat`` of shape ``(4,)``)."""
        return jnp.ndim(self.quat) == 1

    def __len__(self):
        """The number of rotations (the first batch dimension); TypeError if single."""
        if self.single:
            raise TypeError("Single rotation has no len().")
        return self.quat.shape[0]

    def __getitem__(self, indexer) -> "Rotation":
        """The rotation(s) at ``indexer`` along the batch dimensions; TypeError if single."""
        if self.single:
            raise TypeError("Single rotation is not subscriptable.")
        return Rotation(self.quat[indexer])

    def __mul__(self, other) -> "Rotation":
        """Composition ``self * other``: apply ``other`` first, then ``self`` (batch shapes
        broadcast)."""
        if not isinstance(other, Rotation):
            return NotImplemented
        _broadcast_batch(self.quat.shape[:-1], other.quat.shape[:-1], "Rotation.__mul__")
        p, q = promote_dtypes_inexact(self.quat, other.quat)
        return Rotation(_quat_multiply(p, q))


class Slerp(NamedTuple):
    """Spherical linear interpolation of rotations, like
    ``scipy.spatial.transform.Slerp``: build with ``Slerp.init(times, rotations)`` and call
    with the times to interpolate at.  Between key times ``t_i`` and ``t_{i+1}`` the result is
    ``r_i * Rotation.from_rotvec(α v_i)`` with ``v_i = (r_i⁻¹ r_{i+1}).as_rotvec()`` and
    ``α = (t - t_i) / (t_{i+1} - t_i)``; outside ``[t_0, t_last]`` the first/last interval
    is extrapolated (SciPy raises there)."""

    times: typing.Any
    timedelta: typing.Any
    rotations: Rotation
    rotvecs: typing.Any

    @staticmethod
    def init(times, rotations: Rotation) -> "Slerp":
        """The interpolator of the key ``rotations`` (a stack of at least 2) at the strictly
        increasing 1-D key ``times``."""
        if not isinstance(rotations, Rotation):
            raise TypeError(f"Slerp.init: `rotations` must be a Rotation; got "
                            f"{type(rotations).__name__}.")
        if rotations.single or rotations.quat.ndim != 2 or len(rotations) < 2:
            raise ValueError("Slerp.init: `rotations` must be a 1-D stack of at least 2 "
                             "rotations.")
        times = _float_array(times, "Slerp.init: times")
        if times.ndim != 1:
            raise ValueError(f"Slerp.init: expected 1-D `times`; got shape {times.shape}.")
        if times.shape[0] != len(rotations):
            raise ValueError("Slerp.init: expected the number of rotations to equal the number "
                             f"of times; got {len(rotations)} rotations and {times.shape[0]} "
                             "times.")
        timedelta = jnp.diff(times)
        if not _concrete_bool(jnp.all(timedelta > 0)):
            raise ValueError("Slerp.init: `times` must be strictly increasing.")
        rotvecs = (rotations[:-1].inv() * rotations[1:]).as_rotvec()
        return Slerp(times, timedelta, rotations, rotvecs)

    def __call__(self, times) -> Rotation:
        """The interpolated rotation(s) at ``times`` (a scalar gives a single rotation)."""
        t = _float_array(times, "Slerp: times")
        n = self.times.shape[0]
        index = jnp.clip(jnp.searchsorted(self.times, t) - 1, 0, n - 2)
        alpha = (t - self.times[index]) / self.timedelta[index]
        step = Rotation.from_rotvec(self.rotvecs[index] * alpha[..., None])
        return Rotation(self.rotations.quat[index]) * step
