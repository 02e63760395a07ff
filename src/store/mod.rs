//! The state dir (placeholder while the GitHub client lands).
