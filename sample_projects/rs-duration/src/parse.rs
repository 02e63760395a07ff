use crate::Duration;

#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    Empty,
    MissingUnit(String),
    UnknownUnit(char),
    Overflow,
}

/// `1h30m`, `90s`, `2h 5s`: numbers each followed by one of `h`, `m`, `s`.
pub fn parse_duration(text: &str) -> Result<Duration, ParseError> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut secs: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            other => return Err(ParseError::UnknownUnit(other)),
        };
        let n: u64 = number.parse().map_err(|_| ParseError::MissingUnit(text.clone()))?;
        secs = n
            .checked_mul(unit)
            .and_then(|v| v.checked_add(secs))
            .ok_or(ParseError::Overflow)?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(ParseError::MissingUnit(number));
    }
    Ok(Duration { secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration { secs: 5400 }));
        assert_eq!(parse_duration("90s"), Ok(Duration { secs: 90 }));
        assert_eq!(parse_duration("2h 5s"), Ok(Duration { secs: 7205 }));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse_duration(""), Err(ParseError::Empty));
        assert_eq!(parse_duration("15"), Err(ParseError::MissingUnit("15".into())));
        assert_eq!(parse_duration("3d"), Err(ParseError::UnknownUnit('d')));
        assert_eq!(parse_duration("99999999999999999999h"), Err(ParseError::MissingUnit("99999999999999999999h".into())));
    }
}
