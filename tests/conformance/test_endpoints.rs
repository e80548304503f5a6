//! Port of `twisted/internet/test/test_endpoints.py`: the description-string grammar
//! (`ParserTests`, `ServerStringTests`, `ClientStringTests`, the `tcp6` parser).
//!
//! Twisted's string tests check the private attributes of the endpoint that
//! `serverFromString`/`clientFromString` build; here the same strings are checked through the
//! typed description those functions read.
//!
//! Not ported here (not applicable):
//! - `ServerStringTests.test_typeFromPlugin`, `ClientStringTests.test_typeFromPlugin`,
//!   `ClientStringTests.test_stringParserWithReactor`, and the `test_pluginDiscovery` /
//!   `test_interface` tests of `TCP6ServerEndpointPluginTests`: there is no plugin system;
//!   endpoint types are an enum, checked by the compiler.

#![allow(
    clippy::doc_markdown,
    reason = "the doc lines naming the ported Twisted tests quote them verbatim, for grep"
)]

use std::path::Path;
use std::time::Duration;

use tokio_twisted::endpoints::{
    ClientDescription, ParseError, ServerDescription, TcpClientDescription, TcpServerDescription,
    UnixClientDescription, UnixServerDescription, quote_string_argument,
};

fn tcp_server(s: &str) -> TcpServerDescription {
    match s.parse::<ServerDescription>() {
        Ok(ServerDescription::Tcp4(tcp)) => tcp,
        other => panic!("{s}: not a tcp server: {other:?}"),
    }
}

fn unix_server(s: &str) -> UnixServerDescription {
    match s.parse::<ServerDescription>() {
        Ok(ServerDescription::Unix(unix)) => unix,
        other => panic!("{s}: not a unix server: {other:?}"),
    }
}

fn tcp_client(s: &str) -> TcpClientDescription {
    match s.parse::<ClientDescription>() {
        Ok(ClientDescription::Tcp(tcp)) => tcp,
        other => panic!("{s}: not a tcp client: {other:?}"),
    }
}

fn unix_client(s: &str) -> UnixClientDescription {
    match s.parse::<ClientDescription>() {
        Ok(ClientDescription::Unix(unix)) => unix,
        other => panic!("{s}: not a unix client: {other:?}"),
    }
}

fn tcp_fields(d: &TcpServerDescription) -> (u16, &str, u32) {
    (d.port, d.interface.as_str(), d.backlog)
}

fn unix_fields(d: &UnixServerDescription) -> (&Path, u32, u32, bool) {
    (d.address.as_path(), d.mode, d.backlog, d.want_pid)
}

/// twisted: ParserTests.test_simpleTCP
/// A bare `tcp:` port gets the default interface and backlog.
#[test]
fn test_simple_tcp() {
    assert_eq!(tcp_fields(&tcp_server("tcp:80")), (80, "", 50));
}

/// twisted: ParserTests.test_interfaceTCP
/// `interface=` is read as text.
#[test]
fn test_interface_tcp() {
    assert_eq!(
        tcp_fields(&tcp_server("tcp:80:interface=127.0.0.1")),
        (80, "127.0.0.1", 50)
    );
}

/// twisted: ParserTests.test_backlogTCP
/// `backlog=` is read as an integer.
#[test]
fn test_backlog_tcp() {
    assert_eq!(tcp_fields(&tcp_server("tcp:80:backlog=6")), (80, "", 6));
}

/// twisted: ParserTests.test_simpleUNIX
/// A bare `unix:` path gets the default mode, backlog and PID lock file.
#[test]
fn test_simple_unix() {
    assert_eq!(
        unix_fields(&unix_server("unix:/var/run/finger")),
        (Path::new("/var/run/finger"), 0o666, 50, true)
    );
}

/// twisted: ParserTests.test_modeUNIX
/// `mode=` is read in octal.
#[test]
fn test_mode_unix() {
    assert_eq!(
        unix_fields(&unix_server("unix:/var/run/finger:mode=0660")),
        (Path::new("/var/run/finger"), 0o660, 50, true)
    );
}

/// twisted: ParserTests.test_wantPIDUNIX
/// `lockfile=0` turns the PID lock file off.
#[test]
fn test_want_pid_unix() {
    assert_eq!(
        unix_fields(&unix_server("unix:/var/run/finger:lockfile=0")),
        (Path::new("/var/run/finger"), 0o666, 50, false)
    );
}

/// twisted: ParserTests.test_escape
/// A backslash escapes colons, equals signs and backslashes.
#[test]
fn test_escape() {
    assert_eq!(
        unix_fields(&unix_server(r"unix:foo\:bar\=baz\:qux\\")),
        (Path::new(r"foo:bar=baz:qux\"), 0o666, 50, true)
    );
}

/// twisted: ParserTests.test_quoteStringArgument
/// Quoting escapes backslashes and colons.
#[test]
fn test_quote_string_argument() {
    assert_eq!(quote_string_argument(r"some : stuff \"), r"some \: stuff \\");
}

/// twisted: ParserTests.test_impliedEscape
/// An `=` inside a keyword's value needs no escape.
#[test]
fn test_implied_escape() {
    assert_eq!(
        unix_fields(&unix_server("unix:address=foo=bar")),
        (Path::new("foo=bar"), 0o666, 50, true)
    );
}

/// twisted: ParserTests.test_unknownType
/// An unknown type is an error.
#[test]
fn test_parser_unknown_type() {
    assert_eq!(
        "bogus-type:nothing".parse::<ServerDescription>(),
        Err(ParseError::UnknownType("bogus-type".into()))
    );
}

/// twisted: ServerStringTests.test_tcp
/// A tcp server string sets port, backlog and interface.
#[test]
fn test_server_tcp() {
    assert_eq!(
        tcp_fields(&tcp_server("tcp:1234:backlog=12:interface=10.0.0.1")),
        (1234, "10.0.0.1", 12)
    );
}

/// twisted: ServerStringTests.test_unix
/// A unix server string sets path, backlog, mode and lock file.
#[test]
fn test_server_unix() {
    assert_eq!(
        unix_fields(&unix_server("unix:/var/foo/bar:backlog=7:mode=0123:lockfile=1")),
        (Path::new("/var/foo/bar"), 0o123, 7, true)
    );
}

/// twisted: ServerStringTests.test_unknownType
/// An unknown server type names the type in the error.
#[test]
fn test_server_unknown_type() {
    let err = "ftl:andromeda/carcosa/hali/2387"
        .parse::<ServerDescription>()
        .unwrap_err();
    assert_eq!(err, ParseError::UnknownType("ftl".into()));
    assert_eq!(err.to_string(), "unknown endpoint type: \"ftl\"");
}

/// twisted: ClientStringTests.test_tcp
/// A tcp client string with keywords sets host, port, timeout and bind address.
#[test]
fn test_client_tcp() {
    let d = tcp_client("tcp:host=example.com:port=1234:timeout=7:bindAddress=10.0.0.2");
    assert_eq!(
        (d.host.as_str(), d.port, d.timeout, d.bind_address.as_deref()),
        ("example.com", 1234, Duration::from_secs(7), Some("10.0.0.2"))
    );
}

/// twisted: ClientStringTests.test_tcpPositionalArgs
/// Host and port may be positional.
#[test]
fn test_tcp_positional_args() {
    let d = tcp_client("tcp:example.com:1234:timeout=7:bindAddress=10.0.0.2");
    assert_eq!(
        (d.host.as_str(), d.port, d.timeout, d.bind_address.as_deref()),
        ("example.com", 1234, Duration::from_secs(7), Some("10.0.0.2"))
    );
}

/// twisted: ClientStringTests.test_tcpHostPositionalArg
/// A lone positional is the host when the port is a keyword.
#[test]
fn test_tcp_host_positional_arg() {
    let d = tcp_client("tcp:example.com:port=1234:timeout=7:bindAddress=10.0.0.2");
    assert_eq!((d.host.as_str(), d.port), ("example.com", 1234));
}

/// twisted: ClientStringTests.test_tcpPortPositionalArg
/// A lone positional is the port when the host is a keyword.
#[test]
fn test_tcp_port_positional_arg() {
    let d = tcp_client("tcp:host=example.com:1234:timeout=7:bindAddress=10.0.0.2");
    assert_eq!((d.host.as_str(), d.port), ("example.com", 1234));
}

/// twisted: ClientStringTests.test_tcpDefaults
/// Timeout defaults to 30 seconds and there is no bind address.
#[test]
fn test_tcp_defaults() {
    let d = tcp_client("tcp:host=example.com:port=1234");
    assert_eq!((d.timeout, d.bind_address), (Duration::from_secs(30), None));
}

/// twisted: ClientStringTests.test_unix
/// A unix client string sets path, timeout and PID check.
#[test]
fn test_client_unix() {
    let d = unix_client("unix:path=/var/foo/bar:lockfile=1:timeout=9");
    assert_eq!(
        (d.path.as_path(), d.timeout, d.check_pid),
        (Path::new("/var/foo/bar"), Duration::from_secs(9), true)
    );
}

/// twisted: ClientStringTests.test_unixDefaults
/// Timeout defaults to 30 seconds and the PID check is off.
#[test]
fn test_unix_defaults() {
    let d = unix_client("unix:path=/var/foo/bar");
    assert_eq!((d.timeout, d.check_pid), (Duration::from_secs(30), false));
}

/// twisted: ClientStringTests.test_unixPathPositionalArg
/// The path may be positional.
#[test]
fn test_unix_path_positional_arg() {
    let d = unix_client("unix:/var/foo/bar:lockfile=1:timeout=9");
    assert_eq!(
        (d.path.as_path(), d.timeout, d.check_pid),
        (Path::new("/var/foo/bar"), Duration::from_secs(9), true)
    );
}

/// twisted: ClientStringTests.test_unknownType
/// An unknown client type names the type in the error.
#[test]
fn test_client_unknown_type() {
    assert_eq!(
        "ftl:andromeda/carcosa/hali/2387".parse::<ClientDescription>(),
        Err(ParseError::UnknownType("ftl".into()))
    );
}

/// twisted: TCP6ServerEndpointPluginTests.test_stringDescription
/// A `tcp6` string with an escaped IPv6 interface.
#[test]
fn test_string_description() {
    match r"tcp6:8080:backlog=12:interface=\:\:1".parse::<ServerDescription>() {
        Ok(ServerDescription::Tcp6(d)) => assert_eq!(tcp_fields(&d), (8080, "::1", 12)),
        other => panic!("not tcp6: {other:?}"),
    }
}
