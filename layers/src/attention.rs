//! Multi-head attention and positional encodings.
