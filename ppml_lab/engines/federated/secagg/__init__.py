"""Double-masked secure aggregation (Bonawitz et al., CCS 2017), single server.

One round
---------
0. *Channel keys, once per client.* Every client holds a long-lived X25519 channel key pair and
   registers the public key with the server once (:class:`KeyDirectory`); a client downloads a
   peer's channel key the first time the two share a round. The channel key only encrypts
   shares to peers: it is never shared, revealed or used for masks.
1. *Advertise keys.* Each participant draws two fresh secrets for the round from the operating
   system (``secrets.randbelow``), both elements of the prime field GF(p), p = 2^128 - 159
   (16 bytes each): a *self-mask seed* ``b_u`` and a *mask-key seed* ``s_u``. From ``s_u`` it
   derives a fresh X25519 *mask key* pair (private key = HKDF-SHA256 of ``s_u`` with the round
   and its id) and uploads the public key. The server sends back the roster: the participants
   in ascending id order, their mask public keys and the threshold ``t``.
2. *Share keys.* Each participant splits ``b_u`` and ``s_u`` into ``n`` Shamir shares of degree
   ``t - 1`` (any ``t`` rebuild a secret, ``t - 1`` say nothing about it; peer ``v``'s share is
   the polynomial at ``v``'s position in the roster + 1) and sends peer ``v`` its two shares in
   one AES-256-GCM message, keyed by HKDF of the X25519 secret of the two *channel* keys with the
   round id and "u -> v" in the HKDF info. Each key encrypts exactly one message (a client takes
   part in a round id once), so the fixed nonce is safe. The server only relays ciphertexts.
3. *Masked input.* Each participant encodes its update in fixed point (:func:`encode`) and
   uploads ``y_u = x_u + PRG(b_u) + sum_{v > u} PRG(k_uv) - sum_{v < u} PRG(k_uv)`` modulo 2^64,
   where ``k_uv`` is HKDF of the X25519 secret of the two *mask* keys with the round id and both
   ids, and PRG is the AES-256-CTR keystream read as uint64 words (:func:`expand_mask`).
4. *Unmasking.* The clients whose upload arrived are the survivors, the others dropped. With
   fewer than ``t`` survivors the server cannot unmask anything and the round is aborted
   (:class:`ThresholdError`). Otherwise it tells the survivors who dropped; each survivor decrypts
   the shares it received and returns one share per participant: of ``b_u`` if ``u`` survived,
   of ``s_u`` if ``u`` dropped. An honest client never reveals both for one client in one round
   (:class:`SecAggRefusal`). From ``t`` shares each, the server rebuilds every survivor's ``b_u``
   and subtracts its self-mask, and every dropped client's ``s_u``, from which it re-derives the
   mask private key (checked against the advertised public key) and removes that client's pair
   masks with the survivors. The survivors' pair masks with each other cancel in the sum. What
   remains is the exact sum of the survivors' encoded updates.

All primitives (X25519, HKDF-SHA256, AES-CTR, AES-GCM) come from ``cryptography``, and Shamir
sharing comes from MPyC; this package only writes the protocol. :func:`run_round` is the one
implementation of a round; the federated transport (:mod:`..secagg_transport`) calls it.

Where things are
----------------
Import from this package (``from ppml_lab.engines.federated import secagg``); it re-exports
every public name of its modules, one module per job:

:mod:`.encoding`
    Fixed-point encoding of updates as 64-bit words, its overflow headroom, serialisation.
:mod:`.primitives`
    Field elements, HKDF with the protocol's labels, raw public keys, client ids, sizes.
:mod:`.masks`
    The self-mask and pair masks (AES-CTR keystreams) and the one-round mask keys.
:mod:`.shares`
    Shamir sharing over MPyC (and why MPyC) and the encryption of shares to peers.
:mod:`.roster`
    The channel-key directory, the roster, the threshold.
:mod:`.client`
    :class:`SecAggClient`: one participant across rounds, and its refusals.
:mod:`.server`
    :class:`SecAggServer`: the aggregator of one round, and the cost report.
:mod:`.round`
    :func:`run_round`: one complete round.

What it protects
----------------
- Each upload is hidden by its self-mask ``PRG(b_u)`` on top of the pair masks, so a masked
  vector is uniform on ``[0, 2^64)`` word by word and independent of the update. For every client
  the server learns at most one of its two secrets: ``b_u`` if it survived, its one-round mask key
  if it dropped. A dropped client's upload that arrives late (ordinary network delay) therefore
  still decodes to noise after its pair masks were removed: its self-mask seed was never
  revealed. A server that falsely reports a client as dropped gets its pair masks but not its
  self-mask, and no longer unmasks it.
- A lying server. Honest clients answer one consistent unmasking request per round and refuse a
  ``b``-share for a client reported dropped and a key share for one reported surviving. With
  ``t > n/2`` (the default, :func:`default_threshold`) any two groups of ``t`` answering clients
  overlap, so even a server that tells some clients "u dropped" and others "u survived" cannot
  collect ``t`` shares of both of ``u``'s secrets, unless it colludes with clients (below).
- Earlier and later rounds. Mask keys are fresh every round, derived from ``s_u``, so rebuilding
  a dropped client's key exposes only that round's pair masks, never those of rounds in which
  its self-mask seed was revealed. The long-lived channel key is never shared or revealed.
- The result is exact: masks cancel completely, leaving only the fixed-point rounding of
  :func:`encode`.

What it does not protect
------------------------
- The sum itself: the server (and whoever gets the model) learns the sum of the survivors'
  updates. A round with one participant reveals that client's update (its self-mask seed is
  rebuilt from its own share); in a round with two survivors each of them can work out the
  other's update from the new model. Add client-level DP for that.
- Collusion: a server colluding with ``t`` or more of a round's clients can rebuild any client's
  two secrets and unmask its update. With ``c`` colluding clients a server that lies about
  dropouts needs ``t > (n + c) / 2`` to be stopped; the majority default assumes ``c = 0``.
- An actively malicious server. This is the semi-honest version of Bonawitz et al.: no
  signatures on the keys and no consistency-check round. The server relays the channel and mask
  public keys, so a server that substitutes its own keys (man in the middle) reads the shares,
  and one that invents clients (Sybils) can fill the threshold itself. A public-key
  infrastructure, signed keys and the consistency round would close this.
- Dishonest clients: nothing stops a client from uploading garbage (no range proofs) or sending
  wrong shares. A wrong share of a mask-key seed is detected (the rebuilt key does not match the
  advertised one); a wrong share of a self-mask seed silently corrupts the sum.
- Who takes part: the server knows every round's participants and who dropped.
- Secrets drawn from a seeded ``numpy`` generator (``SecAggClient(..., rng=...)``, for
  reproducible tests) are exactly as secret as that seed, i.e. not secret. Leave ``rng=None``
  (the default, used by the federated transport) for the operating system's randomness.
"""

from ppml_lab.engines.federated.secagg.client import SecAggClient, SecAggRefusal
from ppml_lab.engines.federated.secagg.encoding import (
    DEFAULT_SCALE_BITS,
    ENCODED_LIMIT,
    HEADROOM_BITS,
    MAX_SUMMANDS,
    clipped_count,
    decode,
    encode,
    from_bytes,
    max_abs_value,
    to_bytes,
)
from ppml_lab.engines.federated.secagg.masks import (
    derive_pair_seed,
    expand_mask,
    mask_private_key,
    pairwise_mask,
    self_mask,
)
from ppml_lab.engines.federated.secagg.primitives import (
    FIELD_PRIME,
    ID_BYTES,
    KEY_BYTES,
    SECRET_BYTES,
    SEED_BYTES,
)
from ppml_lab.engines.federated.secagg.roster import (
    KeyDirectory,
    Roster,
    ThresholdError,
    default_threshold,
)
from ppml_lab.engines.federated.secagg.round import RoundOutcome, run_round
from ppml_lab.engines.federated.secagg.server import SecAggReport, SecAggServer
from ppml_lab.engines.federated.secagg.shares import (
    SHARE_BYTES,
    SHARE_MESSAGE_BYTES,
    TAG_BYTES,
    open_shares,
    recombine_secrets,
    seal_shares,
    split_secrets,
)

__all__ = [
    "DEFAULT_SCALE_BITS",
    "ENCODED_LIMIT",
    "FIELD_PRIME",
    "HEADROOM_BITS",
    "ID_BYTES",
    "KEY_BYTES",
    "MAX_SUMMANDS",
    "SECRET_BYTES",
    "SEED_BYTES",
    "SHARE_BYTES",
    "SHARE_MESSAGE_BYTES",
    "TAG_BYTES",
    "KeyDirectory",
    "Roster",
    "RoundOutcome",
    "SecAggClient",
    "SecAggRefusal",
    "SecAggReport",
    "SecAggServer",
    "ThresholdError",
    "clipped_count",
    "decode",
    "default_threshold",
    "derive_pair_seed",
    "encode",
    "expand_mask",
    "from_bytes",
    "mask_private_key",
    "max_abs_value",
    "open_shares",
    "pairwise_mask",
    "recombine_secrets",
    "run_round",
    "seal_shares",
    "self_mask",
    "split_secrets",
    "to_bytes",
]
