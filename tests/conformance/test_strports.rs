//! Port of `twisted/test/test_strports.py`.
//!
//! Not ported:
//! - `ServiceTests.test_serviceDefaultReactor`: there is no global reactor;
//!   `strports::service` takes the reactor's handle.
//!
//! `test_service` checks everything Twisted's does except the endpoint's reactor, which an
//! endpoint does not expose (the handle given is the only one it could hold).
//!
//! Totals: 2 tests, 1 ported, 1 not applicable.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::rc::Rc;

use tokio_twisted::endpoints::ServerEndpoint;
use tokio_twisted::protocol::{Address, Factory, Protocol};
use tokio_twisted::service::StreamServerEndpointService;
use tokio_twisted::strports;

use crate::common;

struct Quiet;
impl Protocol for Quiet {
    fn data_received(&mut self, _: &[u8]) {}
}

struct MarkedFactory(Rc<()>);
impl Factory for MarkedFactory {
    type Protocol = Quiet;
    fn build_protocol(&mut self, _: &Address) -> Option<Quiet> {
        Some(Quiet)
    }
}

/// twisted: ServiceTests.test_service
/// `strports::service` is an endpoint service over the endpoint `server_from_string`
/// builds, with the factory given, raising listen failures synchronously.
#[test]
fn test_service() {
    let reactor = common::reactor();
    let marker = Rc::new(());
    let a_good_port = 1337;
    let svc: StreamServerEndpointService<ServerEndpoint, MarkedFactory> = strports::service(
        &reactor.handle(),
        &format!("tcp:{a_good_port}"),
        MarkedFactory(Rc::clone(&marker)),
    )
    .unwrap();
    assert!(svc.raises_synchronously());
    let ServerEndpoint::Tcp4(endpoint) = svc.endpoint().unwrap() else {
        panic!("a tcp: description gives a TCP4 endpoint");
    };
    assert_eq!(endpoint.port(), a_good_port);
    assert!(svc.factory().unwrap().with(|f| Rc::ptr_eq(&f.0, &marker)));
}
