// Tests: tests/conformance/test_strports.rs, tests/service_net.rs

//! `strports`: a listening service from a description string, Twisted's
//! `twisted.application.strports`.
//!
//! [`service`] parses the description as
//! [`server_from_string`] does (see
//! [`crate::endpoints`] for the grammar) and returns a
//! [`StreamServerEndpointService`] that fails its start when the port cannot be bound, so
//! a program run by [`run_application`](crate::service::run_application) exits instead of
//! running without its port.

use crate::endpoints::{ParseError, ServerEndpoint, server_from_string};
use crate::protocol::Factory;
use crate::reactor::ReactorHandle;
use crate::service::StreamServerEndpointService;

/// A service listening on `description` with `factory`: Twisted's
/// `strports.service(description, factory)`. Build it on the reactor thread (the factory
/// stays there).
///
/// A listen failure known when the listen returns (`CannotListenError`: the port is in
/// use, or below 1024 without privileges) fails the service's start; see
/// [`StreamServerEndpointService::raise_synchronously`].
///
/// # Errors
///
/// The [`ParseError`] of a description that does not describe a server endpoint.
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::endpoints::ParseError;
/// use tokio_twisted::protocol::{for_protocol, Protocol};
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::service::{Application, Service};
/// use tokio_twisted::strports;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let app = Application::new("finger");
/// let service = Arc::new(strports::service(&reactor.handle(), "tcp:0:interface=127.0.0.1", for_protocol(|| Quiet))?);
/// service.clone().set_service_parent(&app).unwrap();
/// app.service().privileged_start_service().unwrap();
/// assert!(service.listening_port().is_some());
///
/// let bad = strports::service(&reactor.handle(), "tcp:finger", for_protocol(|| Quiet));
/// assert!(matches!(bad, Err(ParseError::BadNumber { name: "port", .. })));
/// # Ok::<(), ParseError>(())
/// ```
#[doc(alias = "twisted.application.strports.service")]
pub fn service<F: Factory>(
    reactor: &ReactorHandle,
    description: &str,
    factory: F,
) -> Result<StreamServerEndpointService<ServerEndpoint, F>, ParseError> {
    let endpoint = server_from_string(reactor, description)?;
    Ok(StreamServerEndpointService::new(endpoint, factory).raise_synchronously())
}
