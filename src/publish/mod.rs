//! Publishing fixes (placeholder while the GitHub client lands).
