"""The homomorphic-encryption pattern (CKKS on Microsoft SEAL, through TenSEAL).

Kept light on purpose: listing the patterns imports no engine, and nothing here imports TenSEAL.
The engine object lives in :mod:`.pattern`; the encryption layer in :mod:`.ckks`.
"""
