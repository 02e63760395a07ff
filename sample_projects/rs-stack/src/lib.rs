//! A bounded undo history built on a growable stack.

mod stack;

pub use stack::Stack;

/// Keeps the last `limit` edits of a text buffer so they can be undone.
pub struct History {
    edits: Stack<String>,
    limit: usize,
}

impl History {
    pub fn new(limit: usize) -> Self {
        History { edits: Stack::new(), limit }
    }

    pub fn record(&mut self, snapshot: &str) {
        if self.edits.len() == self.limit {
            self.edits.drop_oldest();
        }
        self.edits.push(snapshot.to_string());
    }

    pub fn current(&self) -> Option<&str> {
        self.edits.peek().map(String::as_str)
    }

    pub fn undo(&mut self) -> Option<String> {
        self.edits.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_only_the_newest_edits() {
        let mut h = History::new(2);
        h.record("a");
        h.record("ab");
        h.record("abc");
        assert_eq!(h.current(), Some("abc"));
        assert_eq!(h.undo().as_deref(), Some("abc"));
        assert_eq!(h.undo().as_deref(), Some("ab"));
        assert_eq!(h.undo(), None);
    }
}
