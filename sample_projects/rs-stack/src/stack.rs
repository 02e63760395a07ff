/// A LIFO stack; the top is the last element of the backing vector.
#[derive(Debug, Default)]
pub struct Stack<T> {
    items: Vec<T>,
}

impl<T> Stack<T> {
    pub fn new() -> Self {
        Stack { items: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn push(&mut self, value: T) {
        self.items.push(value);
    }

    pub fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }

    pub fn peek(&self) -> Option<&T> {
        if self.items.is_empty() {
            return None;
        }
        Some(&self.items[self.items.len() - 1])
    }

    /// Removes the bottom element (used to cap the size of a history).
    pub fn drop_oldest(&mut self) -> Option<T> {
        if self.items.is_empty() {
            None
        } else {
            Some(self.items.remove(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stack;

    #[test]
    fn push_pop_is_lifo() {
        let mut s = Stack::new();
        s.push(1);
        s.push(2);
        s.push(3);
        assert_eq!(s.pop(), Some(3));
        assert_eq!(s.pop(), Some(2));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn peek_returns_the_top_without_removing_it() {
        let mut s = Stack::new();
        s.push("x");
        s.push("y");
        assert_eq!(s.peek(), Some(&"y"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn peek_on_empty_stack() {
        let s: Stack<u8> = Stack::new();
        assert_eq!(s.peek(), None);
        assert!(s.is_empty());
    }

    #[test]
    fn drop_oldest_removes_the_bottom() {
        let mut s = Stack::new();
        s.push(1);
        s.push(2);
        assert_eq!(s.drop_oldest(), Some(1));
        assert_eq!(s.peek(), Some(&2));
    }
}
