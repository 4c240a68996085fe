//! Stage-1 address translation (placeholder until the walker lands).
