"""CKKS on Microsoft SEAL through TenSEAL: the key holder, the server, a client, and the bytes
that travel between them.

Every cryptographic operation is SEAL's (key generation, encoding, encryption, the homomorphic
operations, decryption), called through TenSEAL's binding of the SEAL API (``tenseal.sealapi``).
We write no encryption. We use that binding rather than TenSEAL's ``CKKSVector`` because the lab
needs what ``CKKSVector`` hides: it copies a vector into every free slot (a packed sum over
records needs zero padding), exposes no rotation, level or scale control (the packed training
needs all three), packs reals only (scoring and aggregation put two numbers in each complex
slot), sends full symmetric ciphertexts (SEAL can send a seed instead of half of a fresh one),
and ``tenseal.context`` refuses parameters below 128-bit security, which the lab must be able to
run, marked NOT PRIVATE, when the user explicitly allows them.

Roles and keys
--------------
:class:`KeyHolder`
    Creates the SEAL context and every key. It is the only object that holds the secret key: the
    key is never serialised, never returned and never passed to another object. It encrypts with
    the secret key (symmetric encryption, which SEAL serialises *seeded*: the second half of a
    fresh ciphertext is replaced by a 64-byte seed), decrypts, and hands out the *public context*:
    bytes holding the encryption parameters and, as the computation needs them, the public key,
    the relinearisation keys and the rotation (Galois) keys.
:class:`Server`
    Built from the public-context bytes alone; computes on ciphertexts it receives as bytes and
    returns bytes. It cannot decrypt: it holds no secret key (a test checks it).
:class:`PublicEncryptor`
    A client that encrypts with the public key (aggregation): it cannot decrypt either.

TenSEAL's binding saves and loads SEAL objects only through a file path, so each role has its own
private temporary directory (in memory, under /dev/shm, where the system has one); only the bytes
of ciphertexts and of the public context pass through it, never the secret key.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import tenseal.sealapi as seal

from ppml_lab.engines.he.security import CKKSSettings

__all__ = [
    "KeyHolder",
    "PublicEncryptor",
    "Server",
    "pack_slots",
    "unpack_context",
    "unpack_slots",
]

MAGIC = b"PPML-HE-PUBLIC-CONTEXT/1\n"

#: Sections a public context may hold (anything else, a secret key above all, is refused).
PUBLIC_SECTIONS = ("parameters", "public_key", "relin_keys", "galois_keys")


class _Wire:
    """SEAL objects to bytes and back, with SEAL's own ``save``/``load`` (see the module text)."""

    def __init__(self) -> None:
        shm = "/dev/shm"
        base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
        self._dir = tempfile.mkdtemp(prefix="ppml-he-", dir=base)
        self._path = os.path.join(self._dir, "message")
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._dir, True)
        #: Seconds spent serialising and deserialising.
        self.seconds = 0.0

    def dump(self, obj: Any) -> bytes:
        t0 = time.perf_counter()
        obj.save(self._path)
        with open(self._path, "rb") as f:
            data = f.read()
        self.seconds += time.perf_counter() - t0
        return data

    def load(self, obj: Any, data: bytes, context: Any = None) -> Any:
        t0 = time.perf_counter()
        with open(self._path, "wb") as f:
            f.write(data)
        if context is None:
            obj.load(self._path)
        else:
            obj.load(context, self._path)
        self.seconds += time.perf_counter() - t0
        return obj

    def close(self) -> None:
        self._finalizer()


def _context(parms: Any, weak: bool) -> Any:
    level = seal.SEC_LEVEL_TYPE.NONE if weak else seal.SEC_LEVEL_TYPE.TC128
    context = seal.SEALContext(parms, True, level)
    if not context.parameters_set():
        raise ValueError(
            "SEAL refused these encryption parameters: " + context.parameters_error_message()
        )
    return context


def pack_context(sections: dict[str, bytes], meta: dict[str, Any]) -> bytes:
    """The public context: a JSON header (section names and sizes, settings), then the sections."""
    unknown = set(sections) - set(PUBLIC_SECTIONS)
    if unknown:
        raise ValueError(f"not a public section: {sorted(unknown)}")
    header = json.dumps(
        {"meta": meta, "sections": [[name, len(data)] for name, data in sections.items()]}
    ).encode()
    return MAGIC + len(header).to_bytes(4, "big") + header + b"".join(sections.values())


def unpack_context(blob: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(settings, sections) of a public context; ValueError for anything else."""
    if not blob.startswith(MAGIC):
        raise ValueError("not a public context")
    start = len(MAGIC)
    size = int.from_bytes(blob[start:start + 4], "big")
    header = json.loads(blob[start + 4:start + 4 + size])
    offset = start + 4 + size
    sections: dict[str, bytes] = {}
    for name, length in header["sections"]:
        if name not in PUBLIC_SECTIONS:
            raise ValueError(f"a public context may not hold {name!r}")
        sections[name] = blob[offset:offset + length]
        offset += length
    return header["meta"], sections


def pack_slots(values: np.ndarray, slots: int, *, complex_packing: bool) -> list[Any]:
    """``values`` laid out in the slots, zero-padded: record i in slot i, or with complex packing
    records ``[0, slots)`` in the real parts and ``[slots, 2 slots)`` in the imaginary parts.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if complex_packing:
        if len(v) > 2 * slots:
            raise ValueError(f"{len(v)} values do not fit in {slots} complex slots")
        out = np.zeros(slots, dtype=np.complex128)
        out.real[:min(len(v), slots)] = v[:slots]
        if len(v) > slots:
            out.imag[:len(v) - slots] = v[slots:]
        return out.tolist()
    if len(v) > slots:
        raise ValueError(f"{len(v)} values do not fit in {slots} slots")
    out_r = np.zeros(slots)
    out_r[:len(v)] = v
    return out_r.tolist()


def unpack_slots(decoded: Sequence[Any], n: int, *, complex_packing: bool) -> np.ndarray:
    """The first ``n`` values of decoded slots (the inverse of :func:`pack_slots`)."""
    if complex_packing:
        z = np.asarray(decoded, dtype=np.complex128)
        return np.concatenate([z.real, z.imag])[:n]
    return np.asarray(decoded, dtype=np.float64)[:n]


def galois_elements(poly_modulus_degree: int) -> list[int]:
    """SEAL's Galois elements of the rotations by 1, 2, 4, ..., N/4 slots (3^step mod 2N).

    (The binding would read a list of steps as Galois elements; SEAL's GaloisTool maps a left
    rotation by ``step`` to ``3^step mod 2N``.)
    """
    m = 2 * int(poly_modulus_degree)
    slots = int(poly_modulus_degree) // 2
    return [pow(3, 1 << k, m) for k in range(slots.bit_length() - 1)]


class KeyHolder:
    """The owner of the secret key (see the module text).

    Parameters
    ----------
    settings
        The CKKS parameters.
    allow_weak
        Build the context even below 128-bit security (SEAL's check switched off).
    public_key, relin_keys, rotations
        Which public keys the public context carries: the public key (for clients who encrypt),
        relinearisation keys (ciphertext-ciphertext products), Galois keys for rotations by
        powers of two (slot sums).
    """

    def __init__(
        self, settings: CKKSSettings, *, allow_weak: bool = False, public_key: bool = False,
        relin_keys: bool = False, rotations: bool = False,
    ) -> None:
        t0 = time.perf_counter()
        self.settings = settings
        self._wire = _Wire()
        n = settings.poly_modulus_degree
        parms = seal.EncryptionParameters(seal.SCHEME_TYPE.CKKS)
        parms.set_poly_modulus_degree(n)
        try:
            parms.set_coeff_modulus(seal.CoeffModulus.Create(n, list(settings.coeff_mod_bit_sizes)))
        except (RuntimeError, ValueError) as exc:
            raise ValueError(
                f"SEAL cannot build the primes {list(settings.coeff_mod_bit_sizes)} for N = {n}: "
                f"{exc}"
            ) from None
        weak = settings.security_bits == 0
        if weak and not allow_weak:
            raise ValueError(settings.security_text())
        self.context = _context(parms, weak)
        keygen = seal.KeyGenerator(self.context)
        self._secret_key = keygen.secret_key()
        self._encryptor = seal.Encryptor(self.context, self._secret_key)
        self._decryptor = seal.Decryptor(self.context, self._secret_key)
        self.encoder = seal.CKKSEncoder(self.context)
        sections = {"parameters": self._wire.dump(parms)}
        if public_key:
            pk = seal.PublicKey()
            keygen.create_public_key(pk)
            sections["public_key"] = self._wire.dump(pk)
        if relin_keys:
            sections["relin_keys"] = self._wire.dump(keygen.create_relin_keys())  # seeded
        if rotations:
            sections["galois_keys"] = self._wire.dump(
                keygen.create_galois_keys(galois_elements(n))
            )
        self._public = pack_context(
            sections, {"weak": weak, "scale_bits": settings.scale_bits}
        )
        #: Seconds to create the context and the keys (and serialise the public ones).
        self.keygen_seconds = time.perf_counter() - t0
        self.encrypt_seconds = 0.0
        self.decrypt_seconds = 0.0

    @property
    def slots(self) -> int:
        return self.encoder.slot_count()

    @property
    def scale(self) -> float:
        return float(2 ** self.settings.scale_bits)

    @property
    def serialize_seconds(self) -> float:
        return self._wire.seconds

    def public_context(self) -> bytes:
        """The public context: parameters and public keys, never the secret key."""
        return self._public

    def encrypt(
        self, values: np.ndarray, *, complex_packing: bool = False, scale: float | None = None
    ) -> bytes:
        """One ciphertext of ``values`` in the slots (zero-padded), as bytes (seeded)."""
        t0 = time.perf_counter()
        pt = seal.Plaintext()
        self.encoder.encode(
            pack_slots(values, self.slots, complex_packing=complex_packing),
            float(scale or self.scale), pt,
        )
        serializable = self._encryptor.encrypt_symmetric(pt)
        self.encrypt_seconds += time.perf_counter() - t0
        return self._wire.dump(serializable)

    def encrypt_replicated(self, value: float, *, scale: float | None = None) -> bytes:
        """One ciphertext with ``value`` in every slot."""
        t0 = time.perf_counter()
        pt = seal.Plaintext()
        self.encoder.encode(float(value), float(scale or self.scale), pt)
        serializable = self._encryptor.encrypt_symmetric(pt)
        self.encrypt_seconds += time.perf_counter() - t0
        return self._wire.dump(serializable)

    def decrypt(self, blob: bytes, n: int | None = None, *, complex_packing: bool = False
                ) -> np.ndarray:
        """The first ``n`` values (all slots by default) of the ciphertext ``blob``."""
        ct = self._wire.load(seal.Ciphertext(), blob, self.context)
        t0 = time.perf_counter()
        pt = seal.Plaintext()
        self._decryptor.decrypt(ct, pt)
        decoded = (self.encoder.decode_complex(pt) if complex_packing
                   else self.encoder.decode_double(pt))
        size = n if n is not None else (2 * self.slots if complex_packing else self.slots)
        out = unpack_slots(decoded, size, complex_packing=complex_packing)
        self.decrypt_seconds += time.perf_counter() - t0
        return out

    def close(self) -> None:
        self._wire.close()


class Server:
    """The computing side: a SEAL context and evaluation keys from public bytes, no secret key.

    Its helpers keep track of CKKS scales exactly: a product's scale is the product of the scales
    divided by the prime a rescale drops, and constants are encoded at the scale that makes a
    result land on the scale the next addition needs (so no scale is ever forced, which would
    multiply the value by ``prime / 2^bits``).
    """

    def __init__(self, public_context: bytes) -> None:
        meta, sections = unpack_context(public_context)
        self._wire = _Wire()
        parms = self._wire.load(seal.EncryptionParameters(seal.SCHEME_TYPE.CKKS),
                                sections["parameters"])
        self.context = _context(parms, bool(meta.get("weak")))
        self.scale = float(2 ** int(meta["scale_bits"]))
        self.relin_keys = (self._wire.load(seal.RelinKeys(), sections["relin_keys"], self.context)
                           if "relin_keys" in sections else None)
        self.galois_keys = (
            self._wire.load(seal.GaloisKeys(), sections["galois_keys"], self.context)
            if "galois_keys" in sections else None
        )
        self._parms = parms
        self._meta = meta
        self.evaluator = seal.Evaluator(self.context)
        self.encoder = seal.CKKSEncoder(self.context)
        self.compute_seconds = 0.0
        self._primes = {}
        data = self.context.first_context_data()
        while data is not None:
            self._primes[_key(data.parms_id())] = [m.value() for m in data.parms().coeff_modulus()]
            data = data.next_context_data()

    @property
    def slots(self) -> int:
        return self.encoder.slot_count()

    @property
    def serialize_seconds(self) -> float:
        return self._wire.seconds

    def serialize(self) -> bytes:
        """The context this server holds, as bytes: its parameters and evaluation keys."""
        sections = {"parameters": self._wire.dump(self._parms)}
        if self.relin_keys is not None:
            sections["relin_keys"] = self._wire.dump(self.relin_keys)
        if self.galois_keys is not None:
            sections["galois_keys"] = self._wire.dump(self.galois_keys)
        return pack_context(sections, dict(self._meta))

    def receive(self, blob: bytes) -> Any:
        return self._wire.load(seal.Ciphertext(), blob, self.context)

    def send(self, ct: Any) -> bytes:
        return self._wire.dump(ct)

    # -- levels and scales -----------------------------------------------------------------

    def level(self, ct: Any) -> int:
        """How many rescales ``ct`` has been through (0 = fresh)."""
        first = len(self._primes[_key(self.context.first_parms_id())])
        return first - len(self._primes[_key(ct.parms_id())])

    def levels_left(self, ct: Any) -> int:
        """Rescales still possible on ``ct``."""
        return len(self._primes[_key(ct.parms_id())]) - 1

    def next_prime(self, ct: Any) -> float:
        """The prime the next rescale of ``ct`` divides by (SEAL drops the last one)."""
        return float(self._primes[_key(ct.parms_id())][-1])

    def at_level(self, ct: Any, parms_id: Any) -> Any:
        """A copy of ``ct`` switched down to ``parms_id`` (no scale change)."""
        out = seal.Ciphertext()
        self.evaluator.mod_switch_to(ct, parms_id, out)
        return out

    def constant(self, value: complex | float, parms_id: Any, scale: float) -> Any:
        pt = seal.Plaintext()
        self.encoder.encode(value, parms_id, float(scale), pt)
        return pt

    # -- operations ----------------------------------------------------------------------------

    def multiply_constant(self, ct: Any, value: float, target_scale: float) -> Any:
        """``value * ct``, rescaled once, landing exactly on ``target_scale`` (one level)."""
        prime = self.next_prime(ct)
        pt = self.constant(float(value), ct.parms_id(), target_scale * prime / ct.scale)
        out = seal.Ciphertext()
        self.evaluator.multiply_plain(ct, pt, out)
        self.evaluator.rescale_to_next_inplace(out)
        out.scale = float(target_scale)  # equal up to rounding of the double computation
        return out

    def multiply(self, a: Any, b: Any) -> Any:
        """``a * b`` slot by slot, relinearised and rescaled (one level)."""
        out = seal.Ciphertext()
        self.evaluator.multiply(a, b, out)
        self.evaluator.relinearize_inplace(out, self.relin_keys)
        self.evaluator.rescale_to_next_inplace(out)
        return out

    def finish_product(self, ct: Any) -> Any:
        """Relinearise and rescale an accumulated (size-3) sum of products, in place."""
        self.evaluator.relinearize_inplace(ct, self.relin_keys)
        self.evaluator.rescale_to_next_inplace(ct)
        return ct

    def sum_slots(self, ct: Any) -> Any:
        """Every slot becomes the sum of all slots (log2(slots) rotations), in place."""
        tmp = seal.Ciphertext()
        step = 1
        while step < self.slots:
            self.evaluator.rotate_vector(ct, step, self.galois_keys, tmp)
            self.evaluator.add_inplace(ct, tmp)
            step *= 2
        return ct

    def close(self) -> None:
        self._wire.close()


class PublicEncryptor:
    """A client: encrypts with the public key of a public context; cannot decrypt."""

    def __init__(self, public_context: bytes) -> None:
        meta, sections = unpack_context(public_context)
        if "public_key" not in sections:
            raise ValueError("this public context carries no public key")
        self._wire = _Wire()
        parms = self._wire.load(seal.EncryptionParameters(seal.SCHEME_TYPE.CKKS),
                                sections["parameters"])
        self.context = _context(parms, bool(meta.get("weak")))
        self.scale = float(2 ** int(meta["scale_bits"]))
        public_key = self._wire.load(seal.PublicKey(), sections["public_key"], self.context)
        self._encryptor = seal.Encryptor(self.context, public_key)
        self.encoder = seal.CKKSEncoder(self.context)
        self.encrypt_seconds = 0.0

    @property
    def slots(self) -> int:
        return self.encoder.slot_count()

    @property
    def serialize_seconds(self) -> float:
        return self._wire.seconds

    def encrypt(self, values: np.ndarray, *, complex_packing: bool = True) -> bytes:
        t0 = time.perf_counter()
        pt = seal.Plaintext()
        self.encoder.encode(pack_slots(values, self.slots, complex_packing=complex_packing),
                            self.scale, pt)
        ct = seal.Ciphertext()
        self._encryptor.encrypt(pt, ct)
        self.encrypt_seconds += time.perf_counter() - t0
        return self._wire.dump(ct)

    def close(self) -> None:
        self._wire.close()


def _key(parms_id: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in parms_id)
