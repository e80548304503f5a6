// Tests: src/endpoints/parse.rs (unit), tests/endpoints.rs, tests/conformance/test_endpoints.rs

//! Why a description string does not describe an endpoint.

/// A description string that [`ServerDescription`](super::ServerDescription) or
/// [`ClientDescription`](super::ClientDescription) (and so `server_from_string` /
/// `client_from_string`) cannot turn into an endpoint. Each variant names the part of the
/// string that is wrong.
///
/// Twisted raises `ValueError` or `TypeError` for all of these.
///
/// ```
/// use tokio_twisted::endpoints::{ParseError, ServerDescription};
///
/// let err = "tcp:80:backlog=many".parse::<ServerDescription>().unwrap_err();
/// assert_eq!(err.to_string(), r#"tcp endpoint: backlog="many" is not a valid backlog (a non-negative integer)"#);
/// assert!(matches!(err, ParseError::BadNumber { name: "backlog", .. }));
///
/// let err = "ftl:andromeda".parse::<ServerDescription>().unwrap_err();
/// assert_eq!(err, ParseError::UnknownType("ftl".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The first field names no endpoint type this crate or Twisted knows (as Twisted does,
    /// the name is reported in lower case).
    #[error("unknown endpoint type: {0:?}")]
    UnknownType(String),
    /// A Twisted endpoint type this crate does not implement yet (`ssl`, `tls`, `systemd`,
    /// `stdio`, ...). The string may well be valid for Twisted.
    #[error("{0:?} endpoints are not supported yet")]
    Unsupported(String),
    /// A required argument (a TCP port, a UNIX path, ...) is absent.
    #[error("{endpoint} endpoint: missing argument {name:?}")]
    MissingArgument {
        /// The endpoint type being parsed.
        endpoint: &'static str,
        /// The missing parameter.
        name: &'static str,
    },
    /// A `name=value` field whose name the endpoint type does not take.
    #[error("{endpoint} endpoint: unknown keyword {name:?}")]
    UnknownKeyword {
        /// The endpoint type being parsed.
        endpoint: &'static str,
        /// The unknown name, as written.
        name: String,
    },
    /// More positional fields than the endpoint type takes.
    #[error("{endpoint} endpoint: too many positional arguments ({given} given, at most {max})")]
    TooManyArguments {
        /// The endpoint type being parsed.
        endpoint: &'static str,
        /// How many positional fields followed the type.
        given: usize,
        /// How many it takes.
        max: usize,
    },
    /// A parameter given both by position and by keyword (`tcp:80:port=81`).
    #[error("{endpoint} endpoint: argument {name:?} given both by position and by keyword")]
    DuplicateArgument {
        /// The endpoint type being parsed.
        endpoint: &'static str,
        /// The parameter given twice.
        name: &'static str,
    },
    /// A numeric field that is not a number, or out of range for what it sets.
    #[error("{endpoint} endpoint: {name}={value:?} is not a valid {expected}")]
    BadNumber {
        /// The endpoint type being parsed.
        endpoint: &'static str,
        /// The parameter.
        name: &'static str,
        /// The text given.
        value: String,
        /// What the parameter needs, such as "port number (0-65535)".
        expected: &'static str,
    },
    /// The string ends with a backslash that escapes nothing.
    #[error("description ends with a lone backslash")]
    TrailingBackslash,
}
