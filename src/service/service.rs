// Tests: tests/service.rs, tests/conformance/test_service.rs

//! The `Service` trait, the state every service carries, and the errors of service trees.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use crate::defer::{Deferred, succeed};
use crate::failure::Failure;
use crate::lock::lock;

use super::multi::MultiService;

/// A thing that starts and stops with the application: Twisted's `IService` (with
/// `Service`'s default behaviour in the provided methods).
///
/// An implementation holds a [`ServiceState`] (name, parent, `running`) and returns it
/// from [`state`](Self::state); every other method has Twisted's default:
/// [`privileged_start_service`](Self::privileged_start_service) does nothing,
/// [`start_service`](Self::start_service) sets `running`, and
/// [`stop_service`](Self::stop_service) clears it and returns a fired Deferred. An
/// override does its work and updates `running` through the state, as a Twisted override
/// calls `Service.startService(self)`. A `stop_service` that returns an unfired Deferred
/// delays whoever waits for it (a [`MultiService`], the runner's shutdown).
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::defer::{Deferred, succeed};
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::service::{MultiService, Service, ServiceState};
///
/// #[derive(Default)]
/// struct Greeter {
///     state: ServiceState,
/// }
///
/// impl Service for Greeter {
///     fn state(&self) -> &ServiceState {
///         &self.state
///     }
///     fn start_service(&self) -> Result<(), Failure> {
///         self.state.set_running(true);
///         println!("hello");
///         Ok(())
///     }
/// }
///
/// let app = MultiService::new();
/// let greeter = Arc::new(Greeter::default());
/// greeter.set_name("greeter").unwrap();
/// greeter.clone().set_service_parent(&app).unwrap();
/// app.start_service().unwrap();
/// assert!(greeter.running());
/// # drop(app.stop_service());
/// ```
#[doc(alias = "IService")]
#[doc(alias = "twisted.application.service.Service")]
pub trait Service: Send + Sync + 'static {
    /// The service's name, parent and `running` flag.
    fn state(&self) -> &ServiceState;

    /// Work that needs the privileges the process starts with (binding port 79): Twisted's
    /// `privilegedStartService`, called before the runner drops to the configured user.
    /// Does nothing by default.
    ///
    /// # Errors
    ///
    /// Whatever the service reports; the runner then exits with it.
    #[doc(alias = "privilegedStartService")]
    fn privileged_start_service(&self) -> Result<(), Failure> {
        Ok(())
    }

    /// Starts the service: Twisted's `startService`. Sets `running` by default.
    ///
    /// # Errors
    ///
    /// Whatever the service reports; the runner then exits with it.
    #[doc(alias = "startService")]
    fn start_service(&self) -> Result<(), Failure> {
        self.state().set_running(true);
        Ok(())
    }

    /// Stops the service: Twisted's `stopService`. Clears `running` and returns a fired
    /// Deferred by default; a service that stops asynchronously returns one that fires when
    /// it has stopped.
    #[doc(alias = "stopService")]
    fn stop_service(&self) -> Deferred<()> {
        self.state().set_running(false);
        succeed(())
    }

    /// The service's name (Twisted's `name`), if it has one.
    fn name(&self) -> Option<String> {
        self.state().name()
    }

    /// Names the service: Twisted's `setName`.
    ///
    /// # Errors
    ///
    /// [`NameLocked`] once the service has a parent, whose index of names it would break.
    #[doc(alias = "setName")]
    fn set_name(&self, name: &str) -> Result<(), NameLocked> {
        self.state().set_name(name)
    }

    /// Whether the service has started and not stopped (Twisted's `running`).
    fn running(&self) -> bool {
        self.state().running()
    }

    /// The collection the service belongs to (Twisted's `parent`).
    fn parent(&self) -> Option<Arc<MultiService>> {
        self.state().parent()
    }

    /// Adds the service to `parent` (a [`MultiService`] or an
    /// [`Application`](super::Application)), leaving any previous parent first: Twisted's
    /// `setServiceParent`. A parent that is running starts the service at once.
    ///
    /// # Errors
    ///
    /// [`ServiceError::DuplicateName`] if `parent` has a child of the same name (the
    /// service is then left without a parent), or [`ServiceError::StartFailed`] if the
    /// running parent could not start it.
    #[doc(alias = "setServiceParent")]
    fn set_service_parent(self: Arc<Self>, parent: &impl ServiceParent) -> Result<(), ServiceError>
    where
        Self: Sized,
    {
        let me: Arc<dyn Service> = self;
        if me.parent().is_some() {
            drop(disown(&me));
        }
        parent.collection().add_service(me)
    }

    /// Leaves the parent: Twisted's `disownServiceParent`, returning what the parent's
    /// [`remove_service`](`MultiService`::remove_service) returns (the service's stop, if
    /// the parent was running). Without a parent it returns a fired Deferred.
    #[doc(alias = "disownServiceParent")]
    fn disown_service_parent(self: Arc<Self>) -> Deferred<()>
    where
        Self: Sized,
    {
        let me: Arc<dyn Service> = self;
        disown(&me)
    }
}

fn disown(me: &Arc<dyn Service>) -> Deferred<()> {
    match me.parent() {
        Some(parent) => parent.remove_service(me),
        None => succeed(()),
    }
}

/// Something a service can be added to: a [`MultiService`] (through its `Arc`) or an
/// [`Application`](super::Application): Twisted adapts both to `IServiceCollection`.
///
/// ```
/// use tokio_twisted::service::{Application, MultiService, Service, ServiceParent};
///
/// let app = Application::new("finger");
/// assert_eq!(app.collection().name().as_deref(), Some("finger"));
/// let multi = MultiService::new();
/// assert!(std::sync::Arc::ptr_eq(multi.collection(), &multi));
/// ```
#[doc(alias = "IServiceCollection")]
pub trait ServiceParent {
    /// The collection services are added to.
    fn collection(&self) -> &Arc<MultiService>;
}

impl ServiceParent for Arc<MultiService> {
    fn collection(&self) -> &Arc<MultiService> {
        self
    }
}

/// The state Twisted's `Service` keeps: a name, a parent and the `running` flag. Clones
/// share one state, so a service can hand a clone to callbacks (a `stop_service` that
/// clears `running` when its Deferred fires).
///
/// ```
/// use tokio_twisted::service::ServiceState;
///
/// let state = ServiceState::default();
/// assert!(!state.running());
/// state.set_running(true);
/// assert!(state.clone().running());
/// state.set_name("web").unwrap();
/// assert_eq!(state.name().as_deref(), Some("web"));
/// ```
#[derive(Clone, Default)]
pub struct ServiceState {
    inner: Arc<Mutex<StateInner>>,
}

#[derive(Default)]
struct StateInner {
    name: Option<String>,
    parent: Option<Weak<MultiService>>,
    running: bool,
}

impl ServiceState {
    /// A state with a name.
    ///
    /// ```
    /// # use tokio_twisted::service::ServiceState;
    /// assert_eq!(ServiceState::named("db").name().as_deref(), Some("db"));
    /// ```
    pub fn named(name: &str) -> Self {
        let state = ServiceState::default();
        lock(&state.inner).name = Some(name.to_owned());
        state
    }

    /// The name, if any.
    ///
    /// ```
    /// # use tokio_twisted::service::ServiceState;
    /// assert_eq!(ServiceState::default().name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        lock(&self.inner).name.clone()
    }

    /// Sets the name.
    ///
    /// # Errors
    ///
    /// [`NameLocked`] once the service has a parent.
    ///
    /// ```
    /// # use tokio_twisted::service::ServiceState;
    /// let state = ServiceState::default();
    /// state.set_name("a").unwrap();
    /// state.set_name("b").unwrap(); // no parent yet: still free to change
    /// assert_eq!(state.name().as_deref(), Some("b"));
    /// ```
    pub fn set_name(&self, name: &str) -> Result<(), NameLocked> {
        let mut st = lock(&self.inner);
        if st.parent.is_some() {
            return Err(NameLocked);
        }
        st.name = Some(name.to_owned());
        Ok(())
    }

    /// Whether the service is running.
    ///
    /// ```
    /// # use tokio_twisted::service::ServiceState;
    /// assert!(!ServiceState::default().running());
    /// ```
    pub fn running(&self) -> bool {
        lock(&self.inner).running
    }

    /// Sets the `running` flag.
    ///
    /// ```
    /// # use tokio_twisted::service::ServiceState;
    /// let state = ServiceState::default();
    /// state.set_running(true);
    /// assert!(state.running());
    /// ```
    pub fn set_running(&self, running: bool) {
        lock(&self.inner).running = running;
    }

    /// The parent, if the service has one (and it still exists).
    ///
    /// ```
    /// # use tokio_twisted::service::ServiceState;
    /// assert!(ServiceState::default().parent().is_none());
    /// ```
    pub fn parent(&self) -> Option<Arc<MultiService>> {
        lock(&self.inner).parent.as_ref().and_then(Weak::upgrade)
    }

    pub(super) fn set_parent(&self, parent: Option<Weak<MultiService>>) {
        lock(&self.inner).parent = parent;
    }
}

impl fmt::Debug for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.inner);
        f.debug_struct("ServiceState")
            .field("name", &st.name)
            .field("has_parent", &st.parent.is_some())
            .field("running", &st.running)
            .finish()
    }
}

/// A service with a parent cannot be renamed (Twisted raises `RuntimeError`).
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::service::{BasicService, MultiService, NameLocked, Service};
///
/// let parent = MultiService::new();
/// let s = Arc::new(BasicService::named("hello"));
/// s.clone().set_service_parent(&parent).unwrap();
/// assert_eq!(s.set_name("lala"), Err(NameLocked));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("cannot change the name of a service that has a parent")]
pub struct NameLocked;

/// No child of that name: Twisted's `KeyError` from `getServiceNamed`.
///
/// ```
/// use tokio_twisted::service::{MultiService, NoSuchService};
///
/// let Err(err) = MultiService::new().get_service_named("web") else { unreachable!() };
/// assert_eq!(err, NoSuchService("web".into()));
/// assert_eq!(err.to_string(), "no service named \"web\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("no service named {0:?}")]
pub struct NoSuchService(pub String);

/// The service is not a child of this collection (Twisted's `ValueError` from
/// `removeService`).
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::service::{BasicService, MultiService, NotAChild, Service};
/// use tokio_twisted::testing::failure_result_of;
///
/// let stranger: Arc<dyn Service> = Arc::new(BasicService::new());
/// let d = MultiService::new().remove_service(&stranger);
/// assert!(failure_result_of(d).check::<NotAChild>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("the service is not a child of this collection")]
pub struct NotAChild;

/// Why a service could not be added to a collection.
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::service::{BasicService, MultiService, Service, ServiceError};
///
/// let parent = MultiService::new();
/// Arc::new(BasicService::named("hello")).set_service_parent(&parent).unwrap();
/// let err = Arc::new(BasicService::named("hello")).set_service_parent(&parent).unwrap_err();
/// assert!(matches!(err, ServiceError::DuplicateName(name) if name == "hello"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The collection already has a child of this name (Twisted's `RuntimeError`).
    #[error("cannot have two services with the same name {0:?}")]
    DuplicateName(String),
    /// The collection is running, and starting the new child failed; the child stays
    /// in the collection, as in Twisted.
    #[error("the service was added but failed to start")]
    StartFailed(#[source] StartError),
}

/// A service's start failed: the [`Failure`] it reported, as an error type.
///
/// ```
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::service::StartError;
///
/// let err = StartError::new(Failure::msg("port 79 in use"));
/// assert_eq!(err.to_string(), "port 79 in use");
/// ```
#[derive(Debug, Clone)]
pub struct StartError(Failure);

impl StartError {
    /// Wraps the failure a service reported.
    ///
    /// ```
    /// # use tokio_twisted::{failure::Failure, service::StartError};
    /// assert_eq!(StartError::new(Failure::msg("x")).failure().error_message(), "x");
    /// ```
    pub fn new(failure: Failure) -> Self {
        StartError(failure)
    }

    /// The failure.
    ///
    /// ```
    /// # use tokio_twisted::{failure::Failure, service::StartError};
    /// assert!(StartError::new(Failure::msg("x")).failure().check::<tokio_twisted::failure::MessageError>());
    /// ```
    pub fn failure(&self) -> &Failure {
        &self.0
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A service with only Twisted's default behaviour: `service.Service()`. Useful as a
/// placeholder, in tests, and as a parent-less named node.
///
/// ```
/// use tokio_twisted::service::{BasicService, Service};
///
/// let s = BasicService::new();
/// assert!(!s.running());
/// s.start_service().unwrap();
/// assert!(s.running());
/// drop(s.stop_service());
/// assert!(!s.running());
/// ```
#[derive(Debug, Default)]
pub struct BasicService {
    state: ServiceState,
}

impl BasicService {
    /// An unnamed service.
    ///
    /// ```
    /// # use tokio_twisted::service::{BasicService, Service};
    /// assert_eq!(BasicService::new().name(), None);
    /// ```
    pub fn new() -> Self {
        BasicService::default()
    }

    /// A named service.
    ///
    /// ```
    /// # use tokio_twisted::service::{BasicService, Service};
    /// assert_eq!(BasicService::named("x").name().as_deref(), Some("x"));
    /// ```
    pub fn named(name: &str) -> Self {
        BasicService {
            state: ServiceState::named(name),
        }
    }
}

impl Service for BasicService {
    fn state(&self) -> &ServiceState {
        &self.state
    }
}
