"""Hadamard matrices for balanced repeated replication, chosen as R's ``survey::hadamard()`` does.

BRR and Fay replicates (:func:`helpers.stats.survey.replicates.as_replicate_design`) take one
row of a Hadamard matrix per pair of PSUs. Which matrix is used decides which replicates are
built, so to reproduce R's replicates exactly this module makes the same choice of matrix
for every number of pairs ``n``: the smallest of the stored matrices of order 4, 16, 28
and 36 that fits (orders up to 36), otherwise the order closest above ``n`` among those
matrices doubled by Sylvester's construction and Paley's construction from primes
``p = 3 (mod 4)``, preferring Paley's when the doubled matrix would be more than four rows
too large. Matrices are in R's 0/1 coding (1 for +1, 0 for -1) with a first row of ones.

The matrices of order 28 and 36 are tabulated mathematical objects from N. J. A. Sloane's
library of Hadamard matrices, the ones R's survey package stores; the others are
constructed here.

References
----------
Paley, R. E. A. C. (1933) On orthogonal matrices. *Journal of Mathematics and Physics* 12, 311-320.
Sloane, N. J. A. A library of Hadamard matrices. http://neilsloane.com/hadamard/
Wolter, K. (2007) *Introduction to Variance Estimation*, 2nd ed., chapter 3. Springer.
Lumley, T. (2024) survey: ``hadamard``, ``paley``, ``brrweights``. R package 4.x.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["hadamard", "paley", "is_hadamard"]

_H28 = """
1111111111111111111111111111 1001110001110001110001111000 1000001111001101001101111000
1000001110110010111001100110 1001101000001111100011010110 1001010100101100010110101110
1000110011010010001110011110 0101100010101010011111110000 0100010110110101100111010100
0100011011001011110010101100 0101011000010111011101001010 0100101101100100111010011010
0101100101011001101100100110 0010110100011110101011101000 0011011001100110101100110100
0010101100111011010100011100 0011000111010111010010110010 0011001011111000100111001010
0010110011101101011001000110 1110101001010100010111100100 1111000101100011001011001100
1111000010011100111000011100 1110010101001010110101010010 1110011000111001001010110010
1110100010100111100100101010 1101111111111110000000000000 1011111110000001111110000000
0111111110000000000001111110
"""
_H36 = """
111111111111111111111111111111111111 010111000111110111001000010101100100
101110001111101110010000101011001000 011100011111011100100001010110010010
111000111110111001000010101100100100 110001111101110010000101011001001010
100011111011100100001010110010010110 000111110111001000010101100100101110
001111101110010000101011001001011100 011111011100100001010110010010111000
111110111001000010101100100101110000 111101110010000101011001001011100010
111011100100001010110010010111000110 110111001000010101100100101110001110
101110010000101011001001011100011110 011100100001010110010010111000111110
111001000010101100100101110001111100 110010000101011001001011100011111010
100100001010110010010111000111110110 001000010101100100101110001111101110
010000101011001001011100011111011100 100001010110010010111000111110111000
000010101100100101110001111101110010 000101011001001011100011111011100100
001010110010010111000111110111001000 010101100100101110001111101110010000
101011001001011100011111011100100000 010110010010111000111110111001000010
101100100101110001111101110010000100 011001001011100011111011100100001010
110010010111000111110111001000010100 100100101110001111101110010000101010
001001011100011111011100100001010110 010010111000111110111001000010101100
100101110001111101110010000101011000 001011100011111011100100001010110010
"""


def _parse(text: str) -> np.ndarray:
    return np.array([[int(c) for c in row] for row in text.split()], dtype=np.int8)


def _double(h: np.ndarray) -> np.ndarray:
    """Sylvester's doubling [[H, H], [H, 1 - H]] in 0/1 coding."""
    return np.block([[h, h], [h, 1 - h]]).astype(np.int8)


_H4 = np.array([[1, 1, 1, 1], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1]], dtype=np.int8)
#: The stored matrices, by order (16 is the 4 doubled twice, as R's stored one is).
_STORED: dict[int, np.ndarray] = {4: _H4, 16: _double(_double(_H4)), 28: _parse(_H28), 36: _parse(_H36)}
_SIZES = (4, 16, 28, 36)
_PRIME_LIMIT = 7919


@lru_cache(maxsize=1)
def _small_primes() -> tuple[int, ...]:
    """Primes p = 3 (mod 4) up to 7919: the primes Paley's construction is tried with."""
    sieve = np.ones(_PRIME_LIMIT + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(_PRIME_LIMIT ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = False
    return tuple(int(p) for p in np.flatnonzero(sieve) if p % 4 == 3)


def _paley_prime(p: int) -> np.ndarray:
    """Paley's matrix of order p + 1 from the quadratic residues modulo the prime p."""
    m = np.add.outer(np.arange(p), np.arange(p)) % p
    res = {0, 1} | {(i * i) % p for i in range(2, (p - 1) // 2 + 1)}
    core = (~np.isin(m, list(res))).astype(np.int8)
    out = np.ones((p + 1, p + 1), dtype=np.int8)
    out[1:, 1:] = core
    return out


def paley(n: int, nmax: int | None = None) -> np.ndarray | None:
    """A Hadamard matrix of order at least ``n + 1`` from Paley's construction, or None.

    Follows R's ``survey:::paley(n, nmax)``: the order is the next multiple of four above
    ``n`` when a prime (possibly with Sylvester doubling) gives it, else ``p + 1`` for the
    smallest listed prime ``p >= n``; None when that exceeds ``nmax`` (default ``2 n``) or
    ``n`` is beyond the list of primes.

    Parameters
    ----------
    n : int
        Number of rows needed besides the first (number of PSU pairs).
    nmax : int, optional
        Largest acceptable order.

    Returns
    -------
    numpy.ndarray of 0/1 (int8), square, or None.
    """
    nmax = 2 * n if nmax is None else nmax
    primes = _small_primes()
    nceil = nn = n + 4 - (n % 4)
    if (n % 4) + 4 == (n % 8):
        while nn % 8 == 0:
            nn //= 2
        if nn - 1 in primes:
            m = _paley_prime(nn - 1)
            while nn < nceil:
                m = _double(m)
                nn *= 2
            return m
    if n > primes[-1]:
        return None
    p = min(q for q in primes if q >= n)
    if p + 1 > nceil + 4 and nceil + 4 < nmax:
        return paley(nceil + 3)
    if p > nmax:
        return None
    return _paley_prime(p)


def hadamard(n: int) -> np.ndarray:
    """The Hadamard matrix R's ``survey::hadamard(n)`` returns for ``n`` PSU pairs (0/1 coded).

    The result has at least ``n + 1`` rows; its columns are the replicates (R's
    ``brrweights`` uses rows 2 to ``n + 1``, one per pair).

    Parameters
    ----------
    n : int
        Number of PSU pairs (half-samples), >= 0.

    Returns
    -------
    numpy.ndarray
        Square int8 matrix of 0s and 1s, first row all ones.

    Notes
    -----
    R counterpart: ``survey:::hadamard(n)``. Checked against R for n = 1..130 in
    ``tests/test_survey_methods_r.py``.
    """
    n = int(n)
    if n < 0:
        raise ValueError("n must be >= 0")
    m = n - n % 4
    fits = [s for s in _SIZES if m < s <= m + 4]
    if fits:
        return _STORED[min(fits)].copy()
    sizes = [s * 2 ** max(0, math.ceil(math.log2((n + 1) / s))) for s in _SIZES]
    best = int(np.argmin([s - n for s in sizes]))
    h = None
    if sizes[best] - n > 4:
        h = paley(n, sizes[best])
    if h is None:
        h = _STORED[_SIZES[best]]
        for _ in range(math.ceil(math.log2(sizes[best] / _SIZES[best]))):
            h = _double(h)
    return h.copy()


def is_hadamard(h: np.ndarray, full_orthogonal_balance: bool = True) -> bool:
    """Whether ``h`` (0/1 coded) is a Hadamard matrix (R's ``survey::is.hadamard``).

    Parameters
    ----------
    h : array, square, values 0 and 1.
    full_orthogonal_balance : also require every row but the first to sum to zero in
        the +/-1 coding (each replicate balances every pair).

    Returns
    -------
    bool
    """
    h = np.asarray(h)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        return False
    s = 2 * h.astype(float) - 1
    k = h.shape[0]
    if not np.allclose(s.T @ s, k * np.eye(k)) or np.abs(s).max() != 1:
        return False
    return (not full_orthogonal_balance) or s[1:].sum() == 0
