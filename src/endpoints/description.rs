// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs (ParserTests, ServerStringTests,
// ClientStringTests), proptest round-trips in tests/endpoints_proptest.rs

//! Typed server and client descriptions: what a description string means, checked.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::errors::ParseError;
use super::parse::{Fields, bind, parse, python_int};

/// The listen queue length Twisted's server endpoints use when none is given.
///
/// ```
/// use tokio_twisted::endpoints::{DEFAULT_BACKLOG, ServerDescription};
///
/// let ServerDescription::Tcp4(tcp) = "tcp:80".parse().unwrap() else { unreachable!() };
/// assert_eq!(tcp.backlog, DEFAULT_BACKLOG);
/// ```
pub const DEFAULT_BACKLOG: u32 = 50;
/// How long a client endpoint waits for a connection when no timeout is given.
///
/// ```
/// use tokio_twisted::endpoints::{ClientDescription, DEFAULT_TIMEOUT};
///
/// let ClientDescription::Tcp(tcp) = "tcp:localhost:80".parse().unwrap() else { unreachable!() };
/// assert_eq!(tcp.timeout, DEFAULT_TIMEOUT);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The permissions of a UNIX socket file when no `mode` is given.
///
/// ```
/// use tokio_twisted::endpoints::{DEFAULT_UNIX_MODE, ServerDescription};
///
/// let ServerDescription::Unix(unix) = "unix:/tmp/s".parse().unwrap() else { unreachable!() };
/// assert_eq!(unix.mode, DEFAULT_UNIX_MODE);
/// ```
pub const DEFAULT_UNIX_MODE: u32 = 0o666;

/// A TCP server description: `tcp:PORT[:interface=ADDR][:backlog=N]` (or `tcp6:`).
///
/// Positional fields after the type fill `port`, then `interface`, then `backlog` for
/// `tcp`, and `port`, `backlog`, `interface` for `tcp6` (Twisted's parameter orders).
///
/// ```
/// use tokio_twisted::endpoints::{ServerDescription, TcpServerDescription};
///
/// let d: ServerDescription = "tcp:8080:interface=127.0.0.1".parse().unwrap();
/// let ServerDescription::Tcp4(tcp) = d else { panic!("not tcp") };
/// assert_eq!((tcp.port, tcp.interface.as_str(), tcp.backlog), (8080, "127.0.0.1", 50));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TcpServerDescription {
    /// The port to listen on; 0 picks a free one.
    pub port: u16,
    /// The address to bind: `""` (all IPv4 interfaces) for `tcp`, `"::"` for `tcp6`.
    pub interface: String,
    /// The listen queue length, 50 by default.
    pub backlog: u32,
}

/// A UNIX server description: `unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]`.
///
/// ```
/// use tokio_twisted::endpoints::ServerDescription;
///
/// let d: ServerDescription = "unix:/var/run/finger:mode=660".parse().unwrap();
/// let ServerDescription::Unix(unix) = d else { panic!("not unix") };
/// assert_eq!(unix.address.to_str(), Some("/var/run/finger"));
/// assert_eq!((unix.mode, unix.backlog, unix.want_pid), (0o660, 50, true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UnixServerDescription {
    /// The socket file's path.
    pub address: PathBuf,
    /// The socket file's permissions, written in octal (`mode=660`); 0o666 by default.
    pub mode: u32,
    /// The listen queue length, 50 by default.
    pub backlog: u32,
    /// Whether to guard the path with a `PATH.lock` file holding this process's PID
    /// (`lockfile=1`, the default), as Twisted's `wantPID` does.
    pub want_pid: bool,
}

/// What a server description string (`serverFromString`'s argument) describes.
///
/// Server types are matched as Twisted matches them: `tcp` and `unix` only in lower case,
/// `tcp6` in any case. `ssl`, `tls`, `systemd`, `stdio` and `haproxy` are Twisted types this
/// crate does not implement yet: they give [`ParseError::Unsupported`].
///
/// ```
/// use tokio_twisted::endpoints::{ParseError, ServerDescription};
///
/// let d: ServerDescription = "tcp6:1079".parse().unwrap();
/// assert_eq!(d.to_string(), "tcp6:1079:backlog=50:interface=\\:\\:");
/// assert_eq!("TCP:80".parse::<ServerDescription>(), Err(ParseError::UnknownType("tcp".into())));
/// assert_eq!("tcp".parse::<ServerDescription>().unwrap_err().to_string(),
///            "tcp endpoint: missing argument \"port\"");
/// assert_eq!("ssl:443".parse::<ServerDescription>(), Err(ParseError::Unsupported("ssl".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerDescription {
    /// `tcp:...`: an IPv4 TCP server.
    Tcp4(TcpServerDescription),
    /// `tcp6:...`: an IPv6 TCP server.
    Tcp6(TcpServerDescription),
    /// `unix:...`: a UNIX stream socket server.
    Unix(UnixServerDescription),
}

/// A TCP client description:
/// `tcp:HOST:PORT[:timeout=SECONDS][:bindAddress=ADDR]` (host and port may also be
/// keywords).
///
/// ```
/// use tokio_twisted::endpoints::ClientDescription;
/// use std::time::Duration;
///
/// let d: ClientDescription = "tcp:host=example.com:port=1234:timeout=7".parse().unwrap();
/// let ClientDescription::Tcp(tcp) = d else { panic!("not tcp") };
/// assert_eq!((tcp.host.as_str(), tcp.port), ("example.com", 1234));
/// assert_eq!((tcp.timeout, tcp.bind_address), (Duration::from_secs(7), None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TcpClientDescription {
    /// The host name or address to connect to.
    pub host: String,
    /// The port to connect to.
    pub port: u16,
    /// How long to wait for the connection, 30 seconds by default.
    pub timeout: Duration,
    /// The local address to bind before connecting (any port).
    pub bind_address: Option<String>,
}

/// A UNIX client description: `unix:PATH[:timeout=SECONDS][:lockfile=0|1]` (the path may
/// also be the `path` keyword; `checkPID` is accepted as a synonym of `lockfile`).
///
/// ```
/// use tokio_twisted::endpoints::ClientDescription;
///
/// let d: ClientDescription = "unix:/var/foo/bar:lockfile=1:timeout=9".parse().unwrap();
/// let ClientDescription::Unix(unix) = d else { panic!("not unix") };
/// assert_eq!((unix.path.to_str(), unix.timeout.as_secs(), unix.check_pid), (Some("/var/foo/bar"), 9, true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UnixClientDescription {
    /// The socket file's path.
    pub path: PathBuf,
    /// How long to wait for the connection, 30 seconds by default.
    pub timeout: Duration,
    /// Whether to refuse to connect unless `PATH.lock` names a live process.
    pub check_pid: bool,
}

/// What a client description string (`clientFromString`'s argument) describes.
///
/// Client types are case-insensitive, as in Twisted. `ssl` and `tls` give
/// [`ParseError::Unsupported`]; `tcp6` is not a client type (Twisted has none either).
///
/// ```
/// use tokio_twisted::endpoints::{ClientDescription, ParseError};
///
/// let d: ClientDescription = "TCP:example.com:80".parse().unwrap();
/// assert_eq!(d.to_string(), "tcp:host=example.com:port=80:timeout=30");
/// assert_eq!("tcp:example.com:port=http".parse::<ClientDescription>().unwrap_err().to_string(),
///            "tcp endpoint: port=\"http\" is not a valid port number (0-65535)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientDescription {
    /// `tcp:...`: a TCP (IPv4) client.
    Tcp(TcpClientDescription),
    /// `unix:...`: a UNIX stream socket client.
    Unix(UnixClientDescription),
}

/// Server types Twisted knows that this crate does not implement yet, matched in lower case
/// (`ssl` is matched exactly, as Twisted matches its built-in types).
const UNSUPPORTED_SERVER_PLUGINS: [&str; 4] = ["tls", "systemd", "stdio", "haproxy"];

impl FromStr for ServerDescription {
    type Err = ParseError;

    fn from_str(description: &str) -> Result<Self, ParseError> {
        let fields = parse(description)?;
        let (kind, args) = split_type(&fields);
        match kind {
            "tcp" => parse_tcp_server("tcp", ["port", "interface", "backlog"], args, &fields).map(
                |(port, interface, backlog)| {
                    Self::Tcp4(TcpServerDescription {
                        port,
                        interface: interface.unwrap_or_default(),
                        backlog,
                    })
                },
            ),
            "unix" => parse_unix_server(args, &fields).map(Self::Unix),
            "ssl" => Err(ParseError::Unsupported(kind.to_owned())),
            _ => {
                // Twisted finds its other server types through plugins, by lower-cased prefix.
                let lower = kind.to_lowercase();
                if lower == "tcp6" {
                    parse_tcp_server("tcp6", ["port", "backlog", "interface"], args, &fields).map(
                        |(port, interface, backlog)| {
                            Self::Tcp6(TcpServerDescription {
                                port,
                                interface: interface.unwrap_or_else(|| "::".to_owned()),
                                backlog,
                            })
                        },
                    )
                } else if UNSUPPORTED_SERVER_PLUGINS.contains(&lower.as_str()) {
                    Err(ParseError::Unsupported(lower))
                } else {
                    Err(ParseError::UnknownType(lower))
                }
            }
        }
    }
}

impl FromStr for ClientDescription {
    type Err = ParseError;

    fn from_str(description: &str) -> Result<Self, ParseError> {
        let fields = parse(description)?;
        let (kind, args) = split_type(&fields);
        let lower = kind.to_lowercase();
        match lower.as_str() {
            "tcp" => parse_tcp_client(args, &fields).map(Self::Tcp),
            "unix" => parse_unix_client(args, &fields).map(Self::Unix),
            "ssl" | "tls" => Err(ParseError::Unsupported(lower)),
            _ => Err(ParseError::UnknownType(lower)),
        }
    }
}

/// The endpoint type and the positional fields after it.
fn split_type(fields: &Fields) -> (&str, &[String]) {
    match fields.args.split_first() {
        Some((kind, rest)) => (kind.as_str(), rest),
        // parse() always yields a first positional field; a string starting with `name=`
        // has an empty one only in theory, but is then an unknown (empty) type.
        None => ("", &[]),
    }
}

/// `port`, `interface`, `backlog` of a TCP server, in the parameter order `params`.
fn parse_tcp_server(
    endpoint: &'static str,
    params: [&'static str; 3],
    args: &[String],
    fields: &Fields,
) -> Result<(u16, Option<String>, u32), ParseError> {
    let slots = bind(endpoint, params, args, fields)?;
    let slot = |name: &str| params.iter().position(|p| *p == name).and_then(|i| slots[i]);
    let port = required(endpoint, "port", slot("port"))?;
    let port = port_number(endpoint, "port", port)?;
    let backlog = match slot("backlog") {
        Some(text) => number(endpoint, "backlog", text, 10, "backlog (a non-negative integer)")?,
        None => DEFAULT_BACKLOG,
    };
    Ok((port, slot("interface").map(str::to_owned), backlog))
}

fn parse_unix_server(args: &[String], fields: &Fields) -> Result<UnixServerDescription, ParseError> {
    const E: &str = "unix";
    let [address, mode, backlog, lockfile] =
        bind(E, ["address", "mode", "backlog", "lockfile"], args, fields)?;
    Ok(UnixServerDescription {
        address: PathBuf::from(required(E, "address", address)?),
        mode: match mode {
            Some(text) => number(E, "mode", text, 8, "mode (an octal number)")?,
            None => DEFAULT_UNIX_MODE,
        },
        backlog: match backlog {
            Some(text) => number(E, "backlog", text, 10, "backlog (a non-negative integer)")?,
            None => DEFAULT_BACKLOG,
        },
        want_pid: match lockfile {
            Some(text) => flag(E, "lockfile", text)?,
            None => true,
        },
    })
}

fn parse_tcp_client(args: &[String], fields: &Fields) -> Result<TcpClientDescription, ParseError> {
    const E: &str = "tcp";
    // Twisted's _parseClientTCP: two positionals are host and port; one is the port if
    // `host=` was given and the host otherwise. Positionals win over keywords.
    let mut host = fields.keyword("host");
    let mut port = fields.keyword("port");
    match args {
        [] => {}
        [one] if host.is_some() => port = Some(one.as_str()),
        [one] => host = Some(one.as_str()),
        [h, p] => (host, port) = (Some(h.as_str()), Some(p.as_str())),
        _ => {
            return Err(ParseError::TooManyArguments {
                endpoint: E,
                given: args.len(),
                max: 2,
            });
        }
    }
    check_keywords(E, &["host", "port", "timeout", "bindAddress"], fields)?;
    let host = required(E, "host", host)?;
    let port = port_number(E, "port", required(E, "port", port)?)?;
    Ok(TcpClientDescription {
        host: host.to_owned(),
        port,
        timeout: timeout(E, fields)?,
        bind_address: fields.keyword("bindAddress").map(str::to_owned),
    })
}

fn parse_unix_client(args: &[String], fields: &Fields) -> Result<UnixClientDescription, ParseError> {
    const E: &str = "unix";
    let path = match args {
        [] => fields.keyword("path"),
        [one] => Some(one.as_str()),
        _ => {
            return Err(ParseError::TooManyArguments {
                endpoint: E,
                given: args.len(),
                max: 1,
            });
        }
    };
    check_keywords(E, &["path", "timeout", "checkPID", "lockfile"], fields)?;
    // `lockfile` is the documented spelling and wins over `checkPID`, as in Twisted.
    let check_pid = match (fields.keyword("lockfile"), fields.keyword("checkPID")) {
        (Some(text), _) => flag(E, "lockfile", text)?,
        (None, Some(text)) => flag(E, "checkPID", text)?,
        (None, None) => false,
    };
    Ok(UnixClientDescription {
        path: PathBuf::from(required(E, "path", path)?),
        timeout: timeout(E, fields)?,
        check_pid,
    })
}

fn check_keywords(endpoint: &'static str, known: &[&str], fields: &Fields) -> Result<(), ParseError> {
    match fields.kwargs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        Some((name, _)) => Err(ParseError::UnknownKeyword {
            endpoint,
            name: name.clone(),
        }),
        None => Ok(()),
    }
}

fn required<'a>(
    endpoint: &'static str,
    name: &'static str,
    value: Option<&'a str>,
) -> Result<&'a str, ParseError> {
    value.ok_or(ParseError::MissingArgument { endpoint, name })
}

fn number<T: TryFrom<i128>>(
    endpoint: &'static str,
    name: &'static str,
    text: &str,
    radix: u32,
    expected: &'static str,
) -> Result<T, ParseError> {
    python_int(text, radix)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| ParseError::BadNumber {
            endpoint,
            name,
            value: text.to_owned(),
            expected,
        })
}

fn port_number(endpoint: &'static str, name: &'static str, text: &str) -> Result<u16, ParseError> {
    number(endpoint, name, text, 10, "port number (0-65535)")
}

/// A `0`/`1` field read as Python's `bool(int(text))`: any non-zero integer is true.
fn flag(endpoint: &'static str, name: &'static str, text: &str) -> Result<bool, ParseError> {
    number::<i128>(endpoint, name, text, 10, "flag (an integer, 0 for false)").map(|n| n != 0)
}

fn timeout(endpoint: &'static str, fields: &Fields) -> Result<Duration, ParseError> {
    match fields.keyword("timeout") {
        Some(text) => {
            number(endpoint, "timeout", text, 10, "timeout (whole seconds)").map(Duration::from_secs)
        }
        None => Ok(DEFAULT_TIMEOUT),
    }
}

/// Escapes `argument` so that it reads back as one field of a description string: each
/// backslash and colon gets a backslash in front.
///
/// As in Twisted, `=` is left alone: it needs no escape in a keyword's value
/// (`privateKey=...`), which is where quoted text belongs. A positional field containing
/// `=` would read as a keyword, so write such a value with its keyword.
///
/// Building an endpoint directly is usually simpler than formatting a string; this is for
/// tools that write description strings, such as configuration editors.
///
/// ```
/// use tokio_twisted::endpoints::{quote_string_argument, ServerDescription};
///
/// assert_eq!(quote_string_argument(r"some : stuff \"), r"some \: stuff \\");
/// let path = r"C:\sockets\finger";
/// let d: ServerDescription = format!("unix:{}", quote_string_argument(path)).parse().unwrap();
/// let ServerDescription::Unix(unix) = d else { panic!("not unix") };
/// assert_eq!(unix.address.to_str(), Some(path));
/// ```
#[doc(alias = "quoteStringArgument")]
pub fn quote_string_argument(argument: &str) -> String {
    let mut quoted = String::with_capacity(argument.len());
    for c in argument.chars() {
        if c == '\\' || c == ':' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted
}

/// Writes `name=value`, quoting the value. `=` needs no escape after the field's first `=`.
fn keyword(f: &mut fmt::Formatter<'_>, name: &str, value: &str) -> fmt::Result {
    write!(f, ":{name}={}", quote_string_argument(value))
}

/// Formats the description back into a string that parses to the same value, with every
/// argument spelled out (defaults included).
impl fmt::Display for ServerDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp4(tcp) | Self::Tcp6(tcp) => {
                let kind = if matches!(self, Self::Tcp4(_)) {
                    "tcp"
                } else {
                    "tcp6"
                };
                write!(f, "{kind}:{}:backlog={}", tcp.port, tcp.backlog)?;
                keyword(f, "interface", &tcp.interface)
            }
            Self::Unix(unix) => {
                write!(f, "unix:address=")?;
                f.write_str(&quote_string_argument(&unix.address.to_string_lossy()))?;
                write!(
                    f,
                    ":mode={:o}:backlog={}:lockfile={}",
                    unix.mode,
                    unix.backlog,
                    u8::from(unix.want_pid)
                )
            }
        }
    }
}

/// Formats the description back into a string that parses to the same value, with every
/// argument spelled out except an absent bind address.
impl fmt::Display for ClientDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(tcp) => {
                f.write_str("tcp")?;
                keyword(f, "host", &tcp.host)?;
                write!(f, ":port={}:timeout={}", tcp.port, tcp.timeout.as_secs())?;
                match &tcp.bind_address {
                    Some(bind) => keyword(f, "bindAddress", bind),
                    None => Ok(()),
                }
            }
            Self::Unix(unix) => {
                f.write_str("unix")?;
                keyword(f, "path", &unix.path.to_string_lossy())?;
                write!(
                    f,
                    ":timeout={}:lockfile={}",
                    unix.timeout.as_secs(),
                    u8::from(unix.check_pid)
                )
            }
        }
    }
}
