// Tests: unit tests below; tests/endpoints.rs, tests/conformance/test_endpoints.rs

//! The description-string grammar shared by server and client strings.
//!
//! A description is a list of fields separated by `:`. A field is either positional
//! (`80`) or a keyword (`interface=127.0.0.1`). A backslash makes the next character
//! literal, and once a field has seen its `=`, only `:` ends it, so a value may contain
//! `=` unescaped (`unix:address=foo=bar` names the path `foo=bar`). This is the grammar of
//! Twisted's `endpoints._tokenize`/`_parse`, with one difference: a trailing lone
//! backslash is a typed error instead of an internal exception.

use super::errors::ParseError;

/// A description string split into fields, before any endpoint type interprets them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Fields {
    /// Fields without `=`, in order; the first one is the endpoint type.
    pub(crate) args: Vec<String>,
    /// `name=value` fields, in order. A name given twice keeps its last value (as a
    /// Python keyword dictionary does), see [`Fields::keyword`].
    pub(crate) kwargs: Vec<(String, String)>,
}

impl Fields {
    /// The last value given for keyword `name`.
    pub(crate) fn keyword(&self, name: &str) -> Option<&str> {
        self.kwargs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `description` into positional and keyword fields.
///
/// Every string parses except one ending in a lone backslash; even the empty string is one
/// positional field (the empty endpoint type), as in Twisted.
pub(crate) fn parse(description: &str) -> Result<Fields, ParseError> {
    let mut fields = Fields::default();
    // The strings of the field being read: one for a positional field, two once `=` is seen.
    let mut name: Option<String> = None;
    let mut current = String::new();
    let mut chars = description.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => current.push(escaped),
                None => return Err(ParseError::TrailingBackslash),
            },
            ':' => {
                let value = std::mem::take(&mut current);
                push_field(&mut fields, name.take(), value);
            }
            // Only the first `=` of a field is an operator: after it, `=` is ordinary text.
            '=' if name.is_none() => name = Some(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    push_field(&mut fields, name, current);
    Ok(fields)
}

fn push_field(fields: &mut Fields, name: Option<String>, value: String) {
    match name {
        Some(name) => fields.kwargs.push((name, value)),
        None => fields.args.push(value),
    }
}

/// Parses an integer the way Python's `int(text, radix)` does for ASCII input: surrounding
/// whitespace, a sign, `_` between digits, and for radix 8 an optional `0o` prefix.
///
/// Returns `None` when `text` is not such an integer or does not fit in an `i128`.
pub(crate) fn python_int(text: &str, radix: u32) -> Option<i128> {
    let trimmed = text.trim();
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let mut digits = unsigned;
    // After a base prefix, Python allows one `_` before the first digit ("0o_17").
    let mut underscore_allowed = false;
    if radix == 8 {
        if let Some(rest) = digits.strip_prefix("0o").or_else(|| digits.strip_prefix("0O")) {
            digits = rest;
            underscore_allowed = true;
        }
    }
    let mut value: i128 = 0;
    let mut seen_digit = false;
    let mut previous_underscore = false;
    for c in digits.chars() {
        if c == '_' {
            if previous_underscore || !(seen_digit || underscore_allowed) {
                return None;
            }
            previous_underscore = true;
            continue;
        }
        let digit = c.to_digit(radix)?;
        value = value
            .checked_mul(i128::from(radix))?
            .checked_add(i128::from(digit))?;
        seen_digit = true;
        previous_underscore = false;
        underscore_allowed = false;
    }
    if !seen_digit || previous_underscore {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Matches positional and keyword fields to named parameters, as a Python call
/// `f(*args, **kwargs)` with parameters `params` would.
///
/// Returns one slot per parameter, in the order of `params`. The endpoint type (the first
/// positional field) must already be removed from `args`.
pub(crate) fn bind<'a, const N: usize>(
    endpoint: &'static str,
    params: [&'static str; N],
    args: &'a [String],
    fields: &'a Fields,
) -> Result<[Option<&'a str>; N], ParseError> {
    if args.len() > N {
        return Err(ParseError::TooManyArguments {
            endpoint,
            given: args.len(),
            max: N,
        });
    }
    let mut slots: [Option<&str>; N] = [None; N];
    for (slot, arg) in slots.iter_mut().zip(args) {
        *slot = Some(arg.as_str());
    }
    for (name, _) in &fields.kwargs {
        let Some(index) = params.iter().position(|p| p == name) else {
            return Err(ParseError::UnknownKeyword {
                endpoint,
                name: name.clone(),
            });
        };
        if index < args.len() {
            return Err(ParseError::DuplicateArgument {
                endpoint,
                name: params[index],
            });
        }
        slots[index] = fields.keyword(name);
    }
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(args: &[&str], kwargs: &[(&str, &str)]) -> Fields {
        Fields {
            args: args.iter().map(ToString::to_string).collect(),
            kwargs: kwargs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    #[test]
    fn positional_and_keyword_fields() {
        assert_eq!(
            parse("a:b:d=1:c").unwrap(),
            fields(&["a", "b", "c"], &[("d", "1")])
        );
        assert_eq!(
            parse("tcp:80:interface=127.0.0.1:backlog=10").unwrap(),
            fields(&["tcp", "80"], &[("interface", "127.0.0.1"), ("backlog", "10")])
        );
    }

    #[test]
    fn equals_inside_a_value_is_text() {
        assert_eq!(
            parse("unix:address=foo=bar").unwrap(),
            fields(&["unix"], &[("address", "foo=bar")])
        );
        assert_eq!(parse("x:a==").unwrap(), fields(&["x"], &[("a", "=")]));
    }

    #[test]
    fn backslash_escapes_any_character() {
        assert_eq!(
            parse(r"unix:foo\:bar\=baz\:qux\\").unwrap(),
            fields(&["unix", r"foo:bar=baz:qux\"], &[])
        );
        // An escaped `=` in a name does not start the value.
        assert_eq!(parse(r"x:a\=b=c").unwrap(), fields(&["x"], &[("a=b", "c")]));
    }

    #[test]
    fn empty_strings_and_fields_are_kept() {
        assert_eq!(parse("").unwrap(), fields(&[""], &[]));
        assert_eq!(parse(":").unwrap(), fields(&["", ""], &[]));
        assert_eq!(parse("tcp:").unwrap(), fields(&["tcp", ""], &[]));
        assert_eq!(parse("a:=").unwrap(), fields(&["a"], &[("", "")]));
    }

    #[test]
    fn trailing_backslash_is_an_error() {
        assert_eq!(parse(r"tcp:80\"), Err(ParseError::TrailingBackslash));
        assert_eq!(parse(r"tcp:80\\").unwrap(), fields(&["tcp", r"80\"], &[]));
    }

    #[test]
    fn repeated_keyword_keeps_the_last_value() {
        let f = parse("tcp:80:interface=1:interface=2").unwrap();
        assert_eq!(f.keyword("interface"), Some("2"));
        assert_eq!(f.keyword("backlog"), None);
    }

    #[test]
    fn python_int_accepts_what_python_accepts() {
        assert_eq!(python_int("80", 10), Some(80));
        assert_eq!(python_int(" 80\n", 10), Some(80));
        assert_eq!(python_int("+80", 10), Some(80));
        assert_eq!(python_int("-3", 10), Some(-3));
        assert_eq!(python_int("8_0", 10), Some(80));
        assert_eq!(python_int("080", 10), Some(80));
        assert_eq!(python_int("0660", 8), Some(0o660));
        assert_eq!(python_int("0o666", 8), Some(0o666));
        assert_eq!(python_int("0O_6_6", 8), Some(0o66));
    }

    #[test]
    fn python_int_rejects_what_python_rejects() {
        for bad in [
            "", " ", "x", "1.5", "0x50", "_80", "80_", "8__0", "+", "- 1", "1 2",
        ] {
            assert_eq!(python_int(bad, 10), None, "{bad:?}");
        }
        for bad in ["999", "8", "0o", "0o8", "_7"] {
            assert_eq!(python_int(bad, 8), None, "{bad:?}");
        }
        assert_eq!(python_int(&"9".repeat(60), 10), None);
    }

    #[test]
    fn bind_matches_python_calls() {
        let f = parse("tcp:80:backlog=7").unwrap();
        let slots = bind("tcp", ["port", "interface", "backlog"], &f.args[1..], &f).unwrap();
        assert_eq!(slots, [Some("80"), None, Some("7")]);

        let f = parse("tcp:80:1:2:3").unwrap();
        assert_eq!(
            bind("tcp", ["port", "interface", "backlog"], &f.args[1..], &f),
            Err(ParseError::TooManyArguments {
                endpoint: "tcp",
                given: 4,
                max: 3
            })
        );

        let f = parse("tcp:80:port=81").unwrap();
        assert_eq!(
            bind("tcp", ["port", "interface", "backlog"], &f.args[1..], &f),
            Err(ParseError::DuplicateArgument {
                endpoint: "tcp",
                name: "port"
            })
        );

        let f = parse("tcp:80:foo=1").unwrap();
        assert_eq!(
            bind("tcp", ["port", "interface", "backlog"], &f.args[1..], &f),
            Err(ParseError::UnknownKeyword {
                endpoint: "tcp",
                name: "foo".to_string()
            })
        );
    }
}
