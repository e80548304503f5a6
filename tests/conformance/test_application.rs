//! Port of the service parts of `twisted/test/test_application.py`: `Service`,
//! `MultiService`, `Application` and its process component, and `TimerService`.
//!
//! Not ported:
//! - `ServiceTests.testCopying`: services are not copied (a `ServiceState` clone shares
//!   its state on purpose).
//! - `ProcessTests.testProcessName`, `ApplicationTests.testPersistableComponent`,
//!   `InternetTests.testPickledTimer`: process names and pickling (`sob`) are not part
//!   of this crate.
//! - Outside this file's scope here: `InternetTests` other than `testBrokenTimer`
//!   (TCP, UDP, UNIX server and client services wait for the networking services),
//!   `LoadingTests` and `AppSupportTests` (`.tap` persistence), `PluggableReactorTests`
//!   and `HelpReactorsTests` (reactor plugins), `BackoffPolicyTests` (`ClientService`).
//!
//! Totals for the service parts: 28 tests, 24 ported, 4 not applicable.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, succeed};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::service::{
    Application, BasicService, MultiService, NameLocked, Service, ServiceError, ServiceState, TimerService,
};
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{LoggedErrors, success_result_of};

fn service() -> Arc<BasicService> {
    Arc::new(BasicService::new())
}

fn named(name: &str) -> Arc<BasicService> {
    Arc::new(BasicService::named(name))
}

fn same(a: &Arc<dyn Service>, b: &Arc<BasicService>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// twisted: ServiceTests.testName
/// A service can be named.
#[test]
fn test_name() {
    let s = BasicService::new();
    s.set_name("hello").unwrap();
    assert_eq!(s.name().as_deref(), Some("hello"));
}

/// twisted: ServiceTests.testParent
/// Setting a parent adds the service to it and records the parent.
#[test]
fn test_parent() {
    let s = service();
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    let children = p.services();
    assert_eq!(children.len(), 1);
    assert!(same(&children[0], &s));
    assert!(Arc::ptr_eq(&s.parent().unwrap(), &p));
}

/// twisted: ServiceTests.testApplicationAsParent
/// An application works as a parent: the service joins its collection.
#[test]
fn test_application_as_parent() {
    let s = service();
    let app = Application::new("");
    s.clone().set_service_parent(&app).unwrap();
    assert!(same(&app.service().services()[0], &s));
    assert!(Arc::ptr_eq(&s.parent().unwrap(), app.service()));
}

/// twisted: ServiceTests.testNamedChild
/// A named child can be looked up by name.
#[test]
fn test_named_child() {
    let s = service();
    let p = MultiService::new();
    s.set_name("hello").unwrap();
    s.clone().set_service_parent(&p).unwrap();
    assert_eq!(p.services().len(), 1);
    assert!(same(&p.get_service_named("hello").unwrap(), &s));
}

/// twisted: ServiceTests.testDoublyNamedChild
/// A service with a parent cannot be renamed.
#[test]
fn test_doubly_named_child() {
    let s = named("hello");
    s.clone().set_service_parent(&MultiService::new()).unwrap();
    assert_eq!(s.set_name("lala"), Err(NameLocked));
}

/// twisted: ServiceTests.testDuplicateNamedChild
/// Two children of one parent cannot share a name.
#[test]
fn test_duplicate_named_child() {
    let p = MultiService::new();
    named("hello").set_service_parent(&p).unwrap();
    let err = named("hello").set_service_parent(&p).unwrap_err();
    assert!(matches!(err, ServiceError::DuplicateName(ref n) if n == "hello"));
    assert_eq!(p.services().len(), 1);
}

/// twisted: ServiceTests.testDisowning
/// Disowning removes the service from its parent and clears the parent.
#[test]
fn test_disowning() {
    let s = service();
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    assert_eq!(p.services().len(), 1);
    assert!(s.clone().disown_service_parent().called());
    assert!(p.services().is_empty());
    assert!(s.parent().is_none());
}

/// twisted: ServiceTests.testRunning
/// Starting and stopping set and clear `running`.
#[test]
fn test_running() {
    let s = BasicService::new();
    assert!(!s.running());
    s.start_service().unwrap();
    assert!(s.running());
    success_result_of(s.stop_service());
    assert!(!s.running());
}

/// twisted: ServiceTests.testRunningChildren1
/// A MultiService starts and stops its children with itself.
#[test]
fn test_running_children1() {
    let s = service();
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    assert!(!s.running() && !p.running());
    p.start_service().unwrap();
    assert!(s.running() && p.running());
    success_result_of(p.stop_service());
    assert!(!s.running() && !p.running());
}

/// A service that checks, when started and stopped, that an earlier sibling is running.
struct ChecksSibling {
    state: ServiceState,
    sibling: Arc<BasicService>,
    checks: AtomicUsize,
}

impl Service for ChecksSibling {
    fn state(&self) -> &ServiceState {
        &self.state
    }
    fn start_service(&self) -> Result<(), Failure> {
        assert!(self.sibling.running());
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn stop_service(&self) -> Deferred<()> {
        assert!(self.sibling.running());
        self.checks.fetch_add(1, Ordering::SeqCst);
        succeed(())
    }
}

/// twisted: ServiceTests.testRunningChildren2
/// Children start in insertion order and stop in reverse: the later one sees the earlier
/// one running both times.
#[test]
fn test_running_children2() {
    let s = service();
    let t = Arc::new(ChecksSibling {
        state: ServiceState::default(),
        sibling: s.clone(),
        checks: AtomicUsize::new(0),
    });
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    t.clone().set_service_parent(&p).unwrap();
    p.start_service().unwrap();
    success_result_of(p.stop_service());
    assert_eq!(t.checks.load(Ordering::SeqCst), 2);
}

/// twisted: ServiceTests.testAddingIntoRunning
/// A child added to a running MultiService starts at once and stops when disowned.
#[test]
fn test_adding_into_running() {
    let p = MultiService::new();
    p.start_service().unwrap();
    let s = service();
    assert!(!s.running());
    s.clone().set_service_parent(&p).unwrap();
    assert!(s.running());
    success_result_of(s.clone().disown_service_parent());
    assert!(!s.running());
}

struct Privileged {
    state: ServiceState,
    privileged_started: AtomicBool,
}

impl Service for Privileged {
    fn state(&self) -> &ServiceState {
        &self.state
    }
    fn privileged_start_service(&self) -> Result<(), Failure> {
        self.privileged_started.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// twisted: ServiceTests.testPrivileged
/// A MultiService's privileged start reaches its children.
#[test]
fn test_privileged() {
    let s = Arc::new(Privileged {
        state: ServiceState::default(),
        privileged_started: AtomicBool::new(false),
    });
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    service().set_service_parent(&p).unwrap();
    p.privileged_start_service().unwrap();
    assert!(s.privileged_started.load(Ordering::SeqCst));
}

/// twisted: ProcessTests.testID
/// An application carries the uid and gid to run as.
#[test]
fn test_id() {
    let app = Application::new("p").with_uid(5).with_gid(6);
    assert_eq!((app.uid(), app.gid()), (Some(5), Some(6)));
}

/// twisted: ProcessTests.testDefaults
/// Either of uid and gid may be left out.
#[test]
fn test_defaults() {
    let p = Application::new("p").with_uid(5);
    assert_eq!((p.uid(), p.gid()), (Some(5), None));
    let p = Application::new("p").with_gid(5);
    assert_eq!((p.uid(), p.gid()), (None, Some(5)));
    let p = Application::new("p");
    assert_eq!((p.uid(), p.gid()), (None, None));
}

fn provides_service<S: Service + ?Sized>(_: &S) -> bool {
    true
}

/// twisted: InterfacesTests.testService
/// The plain service provides the service interface.
#[test]
fn test_service() {
    assert!(provides_service(&BasicService::new()));
}

/// twisted: InterfacesTests.testMultiService
/// A MultiService is a service and a collection of services.
#[test]
fn test_multi_service() {
    let m = MultiService::new();
    assert!(provides_service(&*m));
    m.add_service(service()).unwrap();
    assert_eq!(m.services().len(), 1);
}

/// twisted: InterfacesTests.testProcess
/// An application provides the process component (uid and gid).
#[test]
fn test_process() {
    let app = Application::new("p");
    assert_eq!((app.uid(), app.gid()), (None, None));
}

/// twisted: ApplicationTests.testConstructor
/// An application is built with a name and optionally a uid and a gid.
#[test]
fn test_constructor() {
    let _ = Application::new("hello");
    let _ = Application::new("hello").with_uid(5);
    let _ = Application::new("hello").with_uid(5).with_gid(6);
}

/// twisted: ApplicationTests.testProcessComponent
/// The process component reports the uid and gid given.
#[test]
fn test_process_component() {
    let a = Application::new("hello");
    assert_eq!((a.uid(), a.gid()), (None, None));
    let a = Application::new("hello").with_uid(5);
    assert_eq!((a.uid(), a.gid()), (Some(5), None));
    let a = Application::new("hello").with_uid(5).with_gid(6);
    assert_eq!((a.uid(), a.gid()), (Some(5), Some(6)));
}

/// twisted: ApplicationTests.testServiceComponent
/// The service component is the collection, named after the application, with no parent.
#[test]
fn test_service_component() {
    let a = Application::new("hello");
    assert_eq!(a.service().name().as_deref(), Some("hello"));
    assert!(a.service().parent().is_none());
}

/// twisted: TimerBasicTests.testTimerRuns
/// The timer calls its function; stopping clears `running`.
#[test]
fn test_timer_runs() {
    let clock = Clock::new();
    let (d, r) = Deferred::<&str>::new();
    let r = Mutex::new(Some(r));
    let t = TimerService::new(Duration::from_secs(1), clock.clone(), move || {
        if let Some(r) = r.lock().unwrap().take() {
            r.callback("hello").unwrap();
        }
    });
    t.start_service().unwrap();
    assert_eq!(success_result_of(d), "hello");
    success_result_of(t.stop_service());
    assert!(!t.running());
}

/// twisted: TimerBasicTests.testTimerRestart
/// A stopped timer can be started again and calls its function again.
#[test]
fn test_timer_restart() {
    let clock = Clock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let t = TimerService::new(Duration::from_secs(1), clock.clone(), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    t.start_service().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    success_result_of(t.stop_service());
    assert!(!t.running());
    clock.advance(Duration::from_secs(5));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "stopped");
    t.start_service().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    success_result_of(t.stop_service());
}

/// twisted: TimerBasicTests.testTimerLoops
/// The timer keeps calling every step.
#[test]
fn test_timer_loops() {
    let clock = Clock::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let t = TimerService::new(Duration::from_millis(10), clock.clone(), move || {
        s.lock().unwrap().push("hello");
    });
    t.start_service().unwrap();
    clock.pump([Duration::from_millis(10); 9]);
    assert_eq!(*seen.lock().unwrap(), ["hello"; 10]);
    success_result_of(t.stop_service());
}

/// twisted: InternetTests.testBrokenTimer
/// A function that raises is logged (here a panic) and the timer still stops cleanly.
#[test]
fn test_broken_timer() {
    let logged = LoggedErrors::capture();
    let clock = Clock::new();
    #[allow(
        clippy::unnecessary_operation,
        reason = "the division is the point: it panics"
    )]
    let t = TimerService::new(Duration::from_secs(1), clock.clone(), || {
        let zero = std::hint::black_box(0);
        let _ = 1 / zero;
    });
    t.start_service().unwrap();
    let errors = logged.flush::<PanicError>();
    assert_eq!(errors.len(), 1);
    assert!(clock.pending_calls().is_empty(), "the loop ended");
    success_result_of(t.stop_service());
}
