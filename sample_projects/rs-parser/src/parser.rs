use crate::lexer::{tokenize, Token};

#[derive(Debug, PartialEq, Eq)]
pub enum EvalError {
    Lex(String),
    Unexpected(Option<Token>),
    DivideByZero,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.peek();
        self.pos += 1;
        t
    }

    // expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<i64, EvalError> {
        let mut value = self.term()?;
        while let Some(op @ (Token::Plus | Token::Minus)) = self.peek() {
            self.next();
            let rhs = self.term()?;
            value = if op == Token::Plus { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    // term := factor (('*' | '/') factor)*
    fn term(&mut self) -> Result<i64, EvalError> {
        let mut value = self.factor()?;
        while let Some(op @ (Token::Star | Token::Slash)) = self.peek() {
            self.next();
            let rhs = self.factor()?;
            if op == Token::Slash && rhs == 0 {
                return Err(EvalError::DivideByZero);
            }
            value = if op == Token::Star { value * rhs } else { value / rhs };
        }
        Ok(value)
    }

    // factor := number | '-' factor | '(' expr ')'
    fn factor(&mut self) -> Result<i64, EvalError> {
        match self.next() {
            Some(Token::Num(n)) => Ok(n),
            Some(Token::Minus) => Ok(-self.factor()?),
            Some(Token::LParen) => {
                let value = self.expr()?;
                match self.next() {
                    Some(Token::RParen) => Ok(value),
                    other => Err(EvalError::Unexpected(other)),
                }
            }
            other => Err(EvalError::Unexpected(other)),
        }
    }
}

pub fn eval(src: &str) -> Result<i64, EvalError> {
    let tokens = tokenize(src).map_err(EvalError::Lex)?;
    let mut parser = Parser { tokens, pos: 0 };
    let value = parser.expr()?;
    match parser.peek() {
        None => Ok(value),
        extra => Err(EvalError::Unexpected(extra)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        assert_eq!(eval("2 + 3 * 4"), Ok(14));
        assert_eq!(eval("2 * (3 + 4) - 10 / 5"), Ok(12));
    }

    #[test]
    fn unary_minus() {
        assert_eq!(eval("-3 * -(2 + 1)"), Ok(9));
    }

    #[test]
    fn large_numbers() {
        assert_eq!(eval("4000000000 * 2"), Ok(8_000_000_000));
    }

    #[test]
    fn errors() {
        assert_eq!(eval("1 / 0"), Err(EvalError::DivideByZero));
        assert_eq!(eval("(1 + 2"), Err(EvalError::Unexpected(None)));
        assert_eq!(eval("1 2"), Err(EvalError::Unexpected(Some(Token::Num(2)))));
        assert!(matches!(eval("1 $ 2"), Err(EvalError::Lex(_))));
    }
}
