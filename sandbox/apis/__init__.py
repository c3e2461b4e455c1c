"""The three imitated APIs (one module each) and the pre-indexed league they render from."""
