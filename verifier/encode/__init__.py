"""Encoding of IAM policies into z3 formulas.

Stages, top to bottom: `glob` compiles wildcard patterns into character-class
sequences, and `request` defines the symbolic request, whose condition keys
`verifier.keys` types. `strings`, `principal` and `conditions` encode the
elements of a statement, and `statement` combines them.
"""
