// Tests: tests/service_net.rs, tests/conformance/test_app_internet.rs (ClientServiceTests)

//! The factory and protocol wrappers through which a `ClientService` hears that its
//! connection was lost.

use std::rc::Rc;

use crate::failure::Failure;
use crate::protocol::{Address, Factory, Protocol, SharedFactory, Transport};

/// Twisted's `_DisconnectFactory`: builds the application's protocols wrapped so that
/// the service hears when the connection is lost.
pub(super) struct DisconnectFactory<F> {
    pub(super) inner: SharedFactory<F>,
    pub(super) lost: Rc<dyn Fn()>,
}

impl<F: Factory> Factory for DisconnectFactory<F> {
    type Protocol = ReconnectingProtocol<F::Protocol>;

    fn build_protocol(&mut self, addr: &Address) -> Option<Self::Protocol> {
        let wrapped = self.inner.build_protocol(addr)?;
        Some(ReconnectingProtocol {
            wrapped,
            lost: Rc::clone(&self.lost),
        })
    }

    fn start_factory(&mut self) {
        self.inner.start_factory();
    }

    fn stop_factory(&mut self) {
        self.inner.stop_factory();
    }
}

/// Twisted's `_ReconnectingProtocolProxy`: the application's protocol, and a
/// notification after its `connection_lost`.
pub(super) struct ReconnectingProtocol<P> {
    wrapped: P,
    lost: Rc<dyn Fn()>,
}

impl<P: Protocol> Protocol for ReconnectingProtocol<P> {
    fn make_connection(&mut self, transport: Transport) {
        self.wrapped.make_connection(transport);
    }

    fn connection_made(&mut self, transport: Transport) {
        self.wrapped.connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.wrapped.data_received(data);
    }

    fn connection_lost(&mut self, reason: Failure) {
        // Twisted notifies in a `finally`: a panicking protocol still reconnects.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.wrapped.connection_lost(reason);
        }));
        (self.lost)();
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    fn half_closeable(&self) -> bool {
        self.wrapped.half_closeable()
    }

    fn read_connection_lost(&mut self) {
        self.wrapped.read_connection_lost();
    }

    fn write_connection_lost(&mut self) {
        self.wrapped.write_connection_lost();
    }
}
