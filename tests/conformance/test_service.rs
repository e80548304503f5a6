//! Port of `twisted/application/test/test_service.py`: what makes a service, and the
//! components of an `Application`.
//!
//! Not ported (the compiler enforces them: a type without a name, parent or `running`
//! cannot implement `Service`, whose state comes from `ServiceState`):
//! - `ServiceInterfaceTests.test_noName`, `test_noParent`, `test_noRunning`.
//!
//! Totals: 6 tests, 3 ported, 3 not applicable.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::Arc;

use tokio_twisted::service::{Application, BasicService, MultiService, Service, ServiceParent, ServiceState};

/// An implementation of the interface by hand: only the state.
#[derive(Default)]
struct AlmostService {
    state: ServiceState,
}

impl Service for AlmostService {
    fn state(&self) -> &ServiceState {
        &self.state
    }
}

fn check_service(s: &dyn Service) {
    assert_eq!(s.name(), None);
    assert!(s.parent().is_none());
    assert!(!s.running());
    s.privileged_start_service().unwrap();
    s.start_service().unwrap();
    assert!(s.running());
    assert!(s.stop_service().called());
    assert!(!s.running());
}

/// twisted: ServiceInterfaceTests.test_realService
/// The plain service provides the whole interface with Twisted's defaults.
#[test]
fn test_real_service() {
    check_service(&BasicService::new());
}

/// twisted: ServiceInterfaceTests.test_hasAll
/// A type that only supplies its state gets the rest of the interface.
#[test]
fn test_has_all() {
    check_service(&AlmostService::default());
}

/// twisted: ApplicationTests.test_applicationComponents
/// An application is a service, a collection of services, and a process (uid, gid).
#[test]
fn test_application_components() {
    let app = Application::new("app-name");
    let service: &Arc<MultiService> = app.service();
    assert!(Arc::ptr_eq(service, app.collection()));
    assert_eq!(service.name().as_deref(), Some("app-name"));
    assert_eq!((app.uid(), app.gid()), (None, None));
}
