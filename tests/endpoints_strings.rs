//! Description strings: the typed results of `ServerDescription`/`ClientDescription`
//! parsing, every kind of bad string, round-trips through `Display` and
//! `quote_string_argument`, and random garbage (which must give an error, never a panic).

use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;
use tokio_twisted::endpoints::{ClientDescription, ParseError, ServerDescription, quote_string_argument};

fn server(s: &str) -> Result<ServerDescription, ParseError> {
    s.parse()
}

fn client(s: &str) -> Result<ClientDescription, ParseError> {
    s.parse()
}

#[test]
fn tcp_server_positional_order_is_port_interface_backlog() {
    let Ok(ServerDescription::Tcp4(tcp)) = server("tcp:80:127.0.0.1:9") else {
        panic!("not tcp")
    };
    assert_eq!(
        (tcp.port, tcp.interface.as_str(), tcp.backlog),
        (80, "127.0.0.1", 9)
    );
}

#[test]
fn tcp6_server_positional_order_is_port_backlog_interface() {
    let Ok(ServerDescription::Tcp6(tcp)) = server(r"TCP6:80:9:\:\:1") else {
        panic!("not tcp6")
    };
    assert_eq!((tcp.port, tcp.interface.as_str(), tcp.backlog), (80, "::1", 9));
    let Ok(ServerDescription::Tcp6(tcp)) = server("tcp6:port=0") else {
        panic!("not tcp6")
    };
    assert_eq!((tcp.port, tcp.interface.as_str(), tcp.backlog), (0, "::", 50));
}

#[test]
fn unescaped_ipv6_interface_is_split_into_fields() {
    // As in Twisted, the colons of an unescaped IPv6 address separate fields.
    assert_eq!(
        server("tcp6:80:interface=::1"),
        Err(ParseError::DuplicateArgument {
            endpoint: "tcp6",
            name: "interface"
        })
    );
}

#[test]
fn numbers_are_read_as_python_reads_them() {
    for s in ["tcp: 80", "tcp:+80", "tcp:8_0", "tcp:080"] {
        let Ok(ServerDescription::Tcp4(tcp)) = server(s) else {
            panic!("{s}")
        };
        assert_eq!(tcp.port, 80, "{s}");
    }
    let Ok(ServerDescription::Unix(unix)) = server("unix:/x:mode=0o640:lockfile=2") else {
        panic!("not unix")
    };
    assert_eq!((unix.mode, unix.want_pid), (0o640, true));
}

#[test]
fn bad_numbers_name_the_field() {
    let cases = [
        ("tcp:", "port", ""),
        ("tcp:abc", "port", "abc"),
        ("tcp:-1", "port", "-1"),
        ("tcp:65536", "port", "65536"),
        ("tcp:0x50", "port", "0x50"),
        ("tcp:80:backlog=-1", "backlog", "-1"),
        ("unix:/x:mode=999", "mode", "999"),
        ("unix:/x:lockfile=yes", "lockfile", "yes"),
    ];
    for (s, field, text) in cases {
        match server(s) {
            Err(ParseError::BadNumber { name, value, .. }) => {
                assert_eq!((name, value.as_str()), (field, text), "{s}");
            }
            other => panic!("{s}: {other:?}"),
        }
    }
    match client("tcp:h:80:timeout=1.5") {
        Err(ParseError::BadNumber { name, value, .. }) => {
            assert_eq!((name, value.as_str()), ("timeout", "1.5"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_and_unknown_arguments() {
    assert_eq!(
        server("tcp"),
        Err(ParseError::MissingArgument {
            endpoint: "tcp",
            name: "port"
        })
    );
    assert_eq!(
        server("unix"),
        Err(ParseError::MissingArgument {
            endpoint: "unix",
            name: "address"
        })
    );
    assert_eq!(
        client("tcp:h"),
        Err(ParseError::MissingArgument {
            endpoint: "tcp",
            name: "port"
        })
    );
    assert_eq!(
        client("tcp:port=80"),
        Err(ParseError::MissingArgument {
            endpoint: "tcp",
            name: "host"
        })
    );
    assert_eq!(
        server("tcp:80:foo=1"),
        Err(ParseError::UnknownKeyword {
            endpoint: "tcp",
            name: "foo".into()
        })
    );
    assert_eq!(
        client("unix:/a:mode=1"),
        Err(ParseError::UnknownKeyword {
            endpoint: "unix",
            name: "mode".into()
        })
    );
    assert_eq!(
        client("tcp:h:80:extra"),
        Err(ParseError::TooManyArguments {
            endpoint: "tcp",
            given: 3,
            max: 2
        })
    );
    assert_eq!(
        server("tcp:80:port=81"),
        Err(ParseError::DuplicateArgument {
            endpoint: "tcp",
            name: "port"
        })
    );
}

#[test]
fn type_names_follow_twisted_case_rules() {
    assert_eq!(server("TCP:80"), Err(ParseError::UnknownType("tcp".into())));
    assert_eq!(server("Unix:/x"), Err(ParseError::UnknownType("unix".into())));
    assert!(matches!(server("Tcp6:80"), Ok(ServerDescription::Tcp6(_))));
    assert!(matches!(client("TcP:h:80"), Ok(ClientDescription::Tcp(_))));
    assert!(matches!(client("UNIX:/x"), Ok(ClientDescription::Unix(_))));
    assert_eq!(client("tcp6:h:80"), Err(ParseError::UnknownType("tcp6".into())));
    assert_eq!(server(""), Err(ParseError::UnknownType(String::new())));
}

#[test]
fn tls_types_are_unsupported_not_malformed() {
    assert_eq!(server("ssl:443"), Err(ParseError::Unsupported("ssl".into())));
    assert_eq!(server("TLS:443"), Err(ParseError::Unsupported("tls".into())));
    assert_eq!(
        server("systemd:domain=INET:index=0"),
        Err(ParseError::Unsupported("systemd".into()))
    );
    assert_eq!(client("SSL:h:443"), Err(ParseError::Unsupported("ssl".into())));
    assert_eq!(client("tls:h:443"), Err(ParseError::Unsupported("tls".into())));
    assert_eq!(
        ParseError::Unsupported("tls".into()).to_string(),
        "\"tls\" endpoints are not supported yet"
    );
}

#[test]
fn client_positionals_win_over_keywords() {
    let Ok(ClientDescription::Tcp(tcp)) = client("tcp:h:80:host=g") else {
        panic!("not tcp")
    };
    assert_eq!(tcp.host, "h");
    let Ok(ClientDescription::Tcp(tcp)) = client("tcp:host=h:port=80:host=g") else {
        panic!("not tcp")
    };
    assert_eq!(tcp.host, "g");
}

#[test]
fn unix_client_check_pid_spellings() {
    let check = |s: &str| match client(s) {
        Ok(ClientDescription::Unix(unix)) => unix.check_pid,
        other => panic!("{s}: {other:?}"),
    };
    assert!(!check("unix:/x"));
    assert!(check("unix:/x:lockfile=1"));
    assert!(check("unix:/x:checkPID=1"));
    assert!(!check("unix:/x:checkPID=1:lockfile=0"));
}

#[test]
fn trailing_backslash_is_an_error() {
    assert_eq!(server(r"tcp:80\"), Err(ParseError::TrailingBackslash));
    assert_eq!(client(r"unix:/x\"), Err(ParseError::TrailingBackslash));
}

#[test]
fn tcp_client_defaults_and_bind_address() {
    let Ok(ClientDescription::Tcp(tcp)) = client("tcp:h:80:bindAddress=10.0.0.2") else {
        panic!("not tcp")
    };
    assert_eq!(tcp.timeout, Duration::from_secs(30));
    assert_eq!(tcp.bind_address.as_deref(), Some("10.0.0.2"));
}

fn any_text() -> impl Strategy<Value = String> + Clone {
    // Heavy on the characters the grammar treats specially.
    prop::collection::vec(
        prop_oneof![
            Just(':'),
            Just('='),
            Just('\\'),
            Just(' '),
            any::<char>(),
            prop::char::range('a', 'z')
        ],
        0..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn any_server() -> impl Strategy<Value = ServerDescription> {
    let tcp = (any::<u16>(), any_text(), any::<u32>());
    let unix = (any_text(), 0u32..0o10000, any::<u32>(), any::<bool>());
    prop_oneof![
        tcp.clone().prop_map(|(port, interface, backlog)| {
            let s = format!(
                "tcp:{port}:backlog={backlog}:interface={}",
                quote_string_argument(&interface)
            );
            s.parse::<ServerDescription>()
                .expect("generated tcp description parses")
        }),
        tcp.prop_map(|(port, interface, backlog)| {
            let s = format!(
                "tcp6:{port}:{backlog}:interface={}",
                quote_string_argument(&interface)
            );
            s.parse::<ServerDescription>()
                .expect("generated tcp6 description parses")
        }),
        unix.prop_map(|(path, mode, backlog, lock)| {
            let s = format!(
                "unix:address={}:mode={mode:o}:backlog={backlog}:lockfile={}",
                quote_string_argument(&path),
                u8::from(lock)
            );
            s.parse::<ServerDescription>()
                .expect("generated unix description parses")
        }),
    ]
}

proptest! {
    #[test]
    fn quoted_text_reads_back_as_one_field(text in any_text()) {
        // As in Twisted, quoting escapes `\` and `:` only, so a positional field must not
        // contain `=`; a keyword's value may.
        if !text.contains('=') {
            let Ok(ServerDescription::Unix(unix)) = server(&format!("unix:{}", quote_string_argument(&text))) else {
                panic!("quoted path did not parse");
            };
            prop_assert_eq!(unix.address, PathBuf::from(&text));
        }
        let Ok(ServerDescription::Unix(unix)) = server(&format!("unix:address={}", quote_string_argument(&text))) else {
            panic!("quoted keyword did not parse");
        };
        prop_assert_eq!(unix.address, PathBuf::from(&text));
    }

    #[test]
    fn server_descriptions_round_trip_through_display(d in any_server()) {
        prop_assert_eq!(server(&d.to_string()), Ok(d));
    }

    #[test]
    fn client_descriptions_round_trip_through_display(
        host in any_text(), port in any::<u16>(), timeout in any::<u32>(),
        bind in prop::option::of(any_text()), path in any_text(), lock in any::<bool>(),
    ) {
        let mut s = format!("tcp:host={}:port={port}:timeout={timeout}", quote_string_argument(&host));
        if let Some(bind) = &bind {
            s = format!("{s}:bindAddress={}", quote_string_argument(bind));
        }
        let d = client(&s).expect("generated tcp client description parses");
        let ClientDescription::Tcp(tcp) = &d else { panic!("not tcp") };
        prop_assert_eq!((&tcp.host, tcp.port, tcp.bind_address.as_ref()), (&host, port, bind.as_ref()));
        prop_assert_eq!(client(&d.to_string()), Ok(d));

        let s = format!("unix:path={}:timeout={timeout}:lockfile={}", quote_string_argument(&path), u8::from(lock));
        let d = client(&s).expect("generated unix client description parses");
        prop_assert_eq!(client(&d.to_string()), Ok(d));
    }

    #[test]
    fn garbage_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = server(&text);
        let _ = client(&text);
    }

    #[test]
    fn garbage_in_the_grammar_never_panics(text in "(tcp6?|unix|TCP|ssl|tls)?[:=\\\\a-z0-9 +_-]{0,30}") {
        if let Err(e) = server(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
        if let Err(e) = client(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}
