//! Endpoints: where servers listen and clients connect, described by typed values or by
//! Twisted's description strings (`"tcp:1079"`, `"unix:/var/run/finger:mode=660"`,
//! `"tcp:host=example.com:port=80"`).
//!
//! # Description strings
//!
//! A description is a type followed by `:`-separated fields. A field is positional
//! (`tcp:80`) or a keyword (`tcp:80:interface=127.0.0.1`); a backslash makes the next
//! character literal (`\:` is a colon inside a field), and `=` inside a keyword's value
//! needs no escape. [`quote_string_argument`] escapes a value for you.
//!
//! | type | server (`ServerDescription`) | client (`ClientDescription`) |
//! |---|---|---|
//! | `tcp` | `tcp:PORT[:interface=ADDR][:backlog=50]` | `tcp:HOST:PORT[:timeout=30][:bindAddress=ADDR]` |
//! | `tcp6` | `tcp6:PORT[:backlog=50][:interface=::]` | not a client type |
//! | `unix` | `unix:PATH[:mode=666][:backlog=50][:lockfile=1]` | `unix:PATH[:timeout=30][:lockfile=0]` |
//!
//! Server types are matched as Twisted matches them (`tcp` and `unix` in lower case only,
//! `tcp6` in any case); client types are case-insensitive. A string that does not parse
//! gets a [`ParseError`] naming the wrong part, and `ssl:`/`tls:` get
//! [`ParseError::Unsupported`] until TLS arrives.
//!
//! ```
//! use tokio_twisted::endpoints::{ClientDescription, ParseError, ServerDescription};
//!
//! let server: ServerDescription = "tcp:1079".parse()?;
//! assert_eq!(server.to_string(), "tcp:1079:backlog=50:interface=");
//!
//! let client: ClientDescription = "tcp:localhost:1079:timeout=5".parse()?;
//! assert!(matches!(client, ClientDescription::Tcp(ref tcp) if tcp.port == 1079));
//!
//! assert!(matches!("tcp:80:colour=blue".parse::<ServerDescription>(),
//!                  Err(ParseError::UnknownKeyword { .. })));
//! # Ok::<(), ParseError>(())
//! ```

mod description;
mod endpoint;
mod errors;
mod from_string;
mod happy;
mod hostname;
mod io;
mod parse;
mod tcp;
#[cfg(unix)]
mod unix;
mod wrapping;

pub use description::{
    ClientDescription, DEFAULT_BACKLOG, DEFAULT_TIMEOUT, DEFAULT_UNIX_MODE, ServerDescription,
    TcpClientDescription, TcpServerDescription, UnixClientDescription, UnixServerDescription,
    quote_string_argument,
};
pub use endpoint::{StreamClientEndpoint, StreamServerEndpoint, connect_protocol};
pub use errors::ParseError;
pub use from_string::{ClientEndpoint, ServerEndpoint, client_from_string, server_from_string};
pub use hostname::{DEFAULT_ATTEMPT_DELAY, HostnameEndpoint};
pub use tcp::{Tcp4ClientEndpoint, Tcp4ServerEndpoint, Tcp6ClientEndpoint, Tcp6ServerEndpoint};
#[cfg(unix)]
pub use unix::{UnixClientEndpoint, UnixServerEndpoint};
pub use wrapping::{WrappingFactory, WrappingProtocol};
