"""Running TLC on the spec/ models."""
