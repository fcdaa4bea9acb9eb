"""Encoding of IAM policies into z3 formulas.

Stages, top to bottom: `glob` compiles wildcard patterns into character-class
sequences, `keys` decides how each condition key is represented, `request`
holds the symbolic request, `conditions` and `statement` build the formulas.
"""
